// The sampling half of the deformable 3x3 convolution for inference on the CPU:
// bilinear samples of the 9 taps written straight into the im2col matrix, in
// channels-last memory, so that the product with the weights is one oneDNN 1x1
// convolution. LibTorch's grid_sampler did the same work ~10x slower (NCHW
// gathers, fp32 only) and stays in use where gradients are needed.
#pragma once

#include <torch/torch.h>

namespace dsfn {

constexpr int kDeformTaps = 9; // the 3x3 kernel's sampling points

// input [n, c, h, w] (any memory format), offset [n, 18, h, w] in the torchvision
// layout (2k: y, 2k+1: x shift of tap k). Returns [n, 9c, h, w] channels-last of
// `type` (float or bfloat16) whose channel k*c + ch is input channel ch sampled
// at tap k; samples outside the picture are zero. The weights must be arranged
// to match: weight.permute({0, 2, 3, 1}).reshape({co, 9c, 1, 1}).
torch::Tensor deform_im2col(const torch::Tensor &input, const torch::Tensor &offset, c10::ScalarType type);

} // namespace dsfn
