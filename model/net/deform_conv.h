// Deformable 3x3 convolution (Dai et al. 2017). Where gradients are needed, or
// off the CPU, it is built from stock LibTorch ops that autograd differentiates;
// inference on the CPU samples with a fused kernel (deform_sample.h) and
// multiplies band by band, each band of the im2col matrix still in cache.
#pragma once

#include <torch/torch.h>

namespace dsfn {

// Offsets follow the torchvision layout: channel 2k is the y shift and 2k+1
// the x shift of tap k (row-major over the 3x3 kernel).
torch::Tensor deform_conv3x3(const torch::Tensor &input, const torch::Tensor &offset, const torch::Tensor &weight,
                             const torch::Tensor &bias);

// deform_conv3x3 written into out, a channels-last [n, co, h, w] tensor of the
// weights' type (a slice of a larger batch, say): inference on the CPU writes it
// there in its own pass; elsewhere the result is copied in.
void deform_conv3x3_into(const torch::Tensor &input, const torch::Tensor &offset, const torch::Tensor &weight,
                         const torch::Tensor &bias, const torch::Tensor &out);

// An 8-bit grid: value = (code - zero_point) * scale, codes 0 to 255.
struct SampleGrid {
    double scale;
    int64_t zero_point;
};

// deform_conv3x3 with each bilinear sample rounded to grid, as precision=int8's
// warp computes them (kernels/deform_u8.h), from stock ops: gradients pass the
// rounding straight through. For quantization-aware training.
torch::Tensor deform_conv3x3_rounded_samples(const torch::Tensor &input, const torch::Tensor &offset,
                                             const torch::Tensor &weight, const torch::Tensor &bias,
                                             const SampleGrid &grid);

// Direct per-pixel loops with explicit bilinear sampling: slow, obviously
// correct, used only to check deform_conv3x3. CPU, float32, contiguous NCHW.
torch::Tensor deform_conv3x3_reference(const torch::Tensor &input, const torch::Tensor &offset,
                                       const torch::Tensor &weight, const torch::Tensor &bias);

class DeformConv3x3Impl : public torch::nn::Module {
public:
    DeformConv3x3Impl(int64_t in_channels, int64_t out_channels);
    torch::Tensor forward(const torch::Tensor &input, const torch::Tensor &offset);
    // forward() written into out (deform_conv3x3_into).
    void forward_into(const torch::Tensor &input, const torch::Tensor &offset, const torch::Tensor &out);

    torch::Tensor weight, bias;
};
TORCH_MODULE(DeformConv3x3);

} // namespace dsfn
