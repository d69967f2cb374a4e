// Named model sizes for the training tools: the paper-sized network and two
// narrower ones that train in minutes per epoch on a small CPU. Each preset is a
// complete HicomexOptions (docs/training.md lists the values and measured costs).
#pragma once
#include <string>
#include <vector>

#include "hicomex/hicomex_options.h"

namespace hicomex::training {

/// "paper": the defaults (aligned 200, crop 176, JAA-Net widths).
/// "small": aligned 128, crop 112, about half the widths.
/// "tiny": aligned 80, crop 64, narrow everything (tests, quick experiments).
/// Throws std::invalid_argument naming the valid presets for another name.
HicomexOptions model_size_preset(const std::string& name);
const std::vector<std::string>& model_size_names();

}  // namespace hicomex::training
