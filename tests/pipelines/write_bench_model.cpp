// Writes an untrained HiCOMEX model at the paper's sizes (HicomexOptions
// defaults) for the pipeline benchmark: the compute of the real network
// without waiting for a trained one.
//   write-bench-model PATH
#include <exception>
#include <iostream>

#include "nn/weights_io.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " PATH\n";
    return 2;
  }
  try {
    hicomex::HicomexOptions o;
    torch::manual_seed(5);
    hicomex::nn::Hicomex net(o);
    hicomex::ModelInfo info;
    info.model_id = "hicomex-bench-untrained";
    info.options = o;
    info.thresholds.assign(o.aus().size(), 0.5f);
    hicomex::nn::save_hicomex(argv[1], net, info);
  } catch (const std::exception& e) {
    std::cerr << "write-bench-model: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
