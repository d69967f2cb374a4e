// Writes an untrained small HiCOMEX model for the GStreamer tests:
//   write-test-model [--intensity] PATH
// --intensity adds the intensity head (AU intensities 0-5 beside occurrence).
// The element tests check plumbing (metas, thresholds, errors), not AU
// accuracy, so seeded random weights at small widths are enough. A separate
// program keeps LibTorch's headers out of the test binaries, as out of the plugin.
#include <exception>
#include <iostream>
#include <string>

#include "../support/small_model.h"
#include "nn/weights_io.h"

int main(int argc, char** argv) {
  const bool intensity = argc == 3 && std::string(argv[1]) == "--intensity";
  if (argc != 2 && !intensity) {
    std::cerr << "usage: " << argv[0] << " [--intensity] PATH\n";
    return 2;
  }
  const char* path = argv[argc - 1];
  try {
    // tests/nn's small widths at the paper's crop size: the real alignment path.
    hicomex::HicomexOptions o =
        intensity ? hicomex::test::small_test_options_with_intensity() : hicomex::test::small_test_options();
    torch::manual_seed(11);
    hicomex::nn::Hicomex net(o);
    hicomex::ModelInfo info;
    info.model_id = intensity ? "hicomex-gst-test-intensity" : "hicomex-gst-test";
    info.options = o;
    for (size_t i = 0; i < o.aus().size(); ++i) info.thresholds.push_back(0.5f);
    hicomex::nn::save_hicomex(path, net, info);
  } catch (const std::exception& e) {
    std::cerr << "write-test-model: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
