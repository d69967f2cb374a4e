// Precompiled header for the translation units that use LibTorch.
#ifndef HICOMEX_TORCH_PCH_H
#define HICOMEX_TORCH_PCH_H
#include <torch/torch.h>
#endif
