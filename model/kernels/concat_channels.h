// Maps concatenated along their channels into the type a convolution reads, in
// one pass over each map: each value converted once and written straight into
// its place in the whole. LibTorch's way (convert each map, then torch::cat)
// writes and reads the whole a second time.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace dsfn {

// parts: 4-D [n, c_i, h, w] on the CPU, any layout, that differ only in c_i.
// Returns [n, sum of c_i, h, w], channels-last, of type: float32, or bfloat16
// rounded to nearest even as LibTorch's conversion rounds. Throws
// std::invalid_argument for parts that do not fit together or another type.
torch::Tensor concat_channels(const std::vector<torch::Tensor> &parts, torch::ScalarType type);

} // namespace dsfn
