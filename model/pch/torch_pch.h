// Precompiled header for the translation units that use LibTorch.
#pragma once
#include <torch/torch.h>
