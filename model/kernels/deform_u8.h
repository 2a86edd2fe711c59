// The deformable 3x3 convolution of precision=int8: bilinear samples of 8-bit
// features, rounded back to their own grid, times weights in signed 8 bits per
// output channel, summed in 32-bit integers and rounded once to the 8-bit grid of
// the output. The sampling is deform_fused.cpp's (tiles sampled and multiplied
// while in L1), the product AVX512-VNNI's byte products where the CPU has them
// and plain integer loops elsewhere, which give the same sums.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "kernels/quantize_u8.h"

namespace dsfn {

class DeformConvU8 {
public:
    // weight: qint8 [c, c, 3, 3] quantized per output channel (symmetric, as
    // quantize_weight_per_channel); bias: float32 [c] or undefined.
    DeformConvU8(const torch::Tensor &weight, const torch::Tensor &bias);

    // input: quint8 [n, c, h, w] quantized per tensor; offset: float32 [n, 18, h, w]
    // (deform_sample.h's layout). Writes the output quantized with `out` into dst:
    // n * h * w * c bytes, channels-last. Samples outside the picture are zero.
    void run(const torch::Tensor &input, const torch::Tensor &offset, const QuantParams &out, uint8_t *dst) const;
    // The same into a new quint8 tensor, channels-last.
    torch::Tensor operator()(const torch::Tensor &input, const torch::Tensor &offset, const QuantParams &out) const;

    int64_t channels() const { return c_; }
    // Whether run() multiplies with AVX512-VNNI on this CPU.
    bool uses_vnni() const;

private:
    int64_t c_;
    std::vector<int8_t> rows_;      // [co][(tap, channel)]: the plain loops' order
    std::vector<int8_t> quads_;     // [(tap, channel) / 4][co][4]: VNNI's order
    std::vector<int32_t> row_sums_; // per output channel, the sum of its weights
    std::vector<float> weight_scale_, bias_;
};

} // namespace dsfn
