// hicomex-prepare: reads a dataset, detects landmarks where it has none, aligns
// every face to 200x200 with the shared alignment code and writes the prepared
// cache that hicomex-train and hicomex-eval read with --data.
#include <iostream>

#include <CLI/CLI.hpp>

#include "tool_common.h"

using namespace hicomex::training;

int main(int argc, char** argv) {
  CLI::App app{
      "hicomex-prepare: dataset -> prepared cache (aligned 200x200 faces, 49 landmarks, labels).\n"
      "Landmarks come from the dataset, else from the project's face pipeline (BlazeFace + 68-point net)."};
  tools::DataArgs data;
  std::string out;
  tools::add_data_options(app, data);
  app.add_option("--out", out, "cache file to write (e.g. bp4d.cache)")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    tools::finish_data_args(data);
    if (is_cache_file(data.spec.path))
      throw std::invalid_argument("--data " + data.spec.path + " is a prepared cache already");
    BadDataLog log(data.spec.skip_bad);
    const auto r = prepare_to_cache(data.spec, out, log, tools::say);
    tools::say(log.summary());
    CacheReader cache(r.cache_path);
    std::cout << r.cache_path << ": " << cache.size() << " faces, " << cache.subjects().size() << " subjects\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "hicomex-prepare: error: " << e.what() << '\n';
    return 1;
  }
}
