// Writes an untrained small HiCOMEX model for the GStreamer tests:
//   write-test-model PATH
// The element tests check plumbing (metas, thresholds, errors), not AU
// accuracy, so seeded random weights at small widths are enough. A separate
// program keeps LibTorch's headers out of the test binaries, as out of the plugin.
#include <exception>
#include <iostream>

#include "../support/small_model.h"
#include "nn/weights_io.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " PATH\n";
    return 2;
  }
  try {
    // tests/nn's small widths at the paper's crop size: the real alignment path.
    hicomex::HicomexOptions o = hicomex::test::small_test_options();
    torch::manual_seed(11);
    hicomex::nn::Hicomex net(o);
    hicomex::ModelInfo info;
    info.model_id = "hicomex-gst-test";
    info.options = o;
    for (size_t i = 0; i < o.aus().size(); ++i) info.thresholds.push_back(0.5f);
    hicomex::nn::save_hicomex(argv[1], net, info);
  } catch (const std::exception& e) {
    std::cerr << "write-test-model: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
