// The sampling half of the deformable 3x3 convolution for inference on the CPU:
// bilinear samples of the 9 taps written straight into the im2col matrix, in
// channels-last memory, so that the product with the weights is one oneDNN 1x1
// convolution. LibTorch's grid_sampler did the same work ~10x slower (NCHW
// gathers, fp32 only) and stays in use where gradients are needed.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace dsfn {

constexpr int kDeformTaps = 9; // the 3x3 kernel's sampling points

// offset [n, 18, h, w] as the samplers read it: float32 pixels of 18 values in
// (image, row, column) order, `stride` floats apart. A float32 map whose 18
// channels lie together in memory and whose pixels follow each other evenly
// (either half of the channels-last [n, 36, h, w] the offsets convolution gives)
// is read where it is; any other is copied, packed (stride 18).
struct OffsetRows {
    torch::Tensor values; // a view of the memory read, kept alive
    int64_t stride;
};
OffsetRows offset_rows(const torch::Tensor &offset);

// Bilinear samples of the 9 taps for any band of picture rows, so that a caller
// can sample and multiply a band at a time while it is still in cache.
// input [n, c, h, w] (any memory format) and offset [n, 18, h, w] (torchvision
// layout, as deform_im2col) are made channels-last once: bf16 features for a bf16
// matrix stay bf16, all else is sampled in fp32.
class DeformSampler {
public:
    // type: the im2col matrix's, float or bfloat16.
    DeformSampler(const torch::Tensor &input, const torch::Tensor &offset, c10::ScalarType type);
    int64_t rows() const { return n_ * h_; }             // the batch's picture rows, image-major
    int64_t columns() const { return kDeformTaps * c_; } // im2col columns per pixel
    // Rows [begin, end) into cols: contiguous, of the sampler's type, (end - begin) * w
    // pixels of columns() values, column k * c + ch being channel ch at tap k.
    void sample(int64_t begin, int64_t end, torch::Tensor &cols) const;
    // The whole convolution in one go, sampling tiles of pixels and multiplying
    // them while they are in L1: 32 or 64 channels in and out (the warps of dsfn-w16
    // and dsfn-w32), fp32, or bf16 on CPUs with AVX512-BF16 or AMX; returns false, leaving
    // out alone, for anything else. weight [c, c, 3, 3] and bias [c] of the sampler's type;
    // out: where to write, channels-last [n, c, h, w] of the sampler's type, or undefined for a new tensor.
    bool sample_and_multiply(const torch::Tensor &weight, const torch::Tensor &bias, torch::Tensor &out) const;

private:
    c10::ScalarType type_;
    int64_t n_ = 0, c_ = 0, h_ = 0, w_ = 0;
    torch::Tensor input_;
    OffsetRows offset_;
    std::vector<float> zeros_;
};

// Whether sample_and_multiply multiplies bf16 tiles on AMX: where the CPU has
// AMX-BF16, the OS grants this process its tile state, and allow_amx_tiles(false)
// has not turned it off (the unit tests check both products on AMX machines).
bool amx_tiles_in_use();
void allow_amx_tiles(bool allow);

// input [n, c, h, w] (any memory format), offset [n, 18, h, w] in the torchvision
// layout (2k: y, 2k+1: x shift of tap k). Returns [n, 9c, h, w] channels-last of
// `type` (float or bfloat16) whose channel k*c + ch is input channel ch sampled
// at tap k; samples outside the picture are zero. The weights must be arranged
// to match: weight.permute({0, 2, 3, 1}).reshape({co, 9c, 1, 1}).
torch::Tensor deform_im2col(const torch::Tensor &input, const torch::Tensor &offset, c10::ScalarType type);

} // namespace dsfn
