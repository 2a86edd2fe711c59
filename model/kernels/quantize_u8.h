// 8-bit affine quantization of activations for the int8 convolutions: a float v
// is stored as q = clamp(round(v / scale) + zero_point, 0, 255) and read back as
// (q - zero_point) * scale, as LibTorch's quantize_per_tensor and dequantize do
// (the unit tests compare them), in one vectorised pass over channels-last maps,
// and with the concatenations and residual sums the int8 levels need fused in.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace dsfn {

struct QuantParams {
    double scale = 1.0;
    int64_t zero_point = 0;
};

// The parameters that cover [lo, hi] with 256 levels; the range is widened to
// hold 0 (so zero padding is exact), and an empty range gets scale 1.
QuantParams quant_params(double lo, double hi);

// x: float32 on the CPU, any layout. Returns a quint8 tensor, channels-last when x is 4-D.
torch::Tensor quantize_u8(const torch::Tensor &x, const QuantParams &q);
// The parts concatenated along their first dimension, quantized in one pass
// (without a float copy of the whole); the other sizes must agree.
torch::Tensor quantize_u8(const std::vector<torch::Tensor> &parts, const QuantParams &q);

// 4-D parts [n, c_i, h, w] concatenated along their channels, quantized in one
// pass into [n, sum of c_i, h, w] channels-last (without a float copy of the whole).
torch::Tensor quantize_u8_channels(const std::vector<torch::Tensor> &parts, const QuantParams &q);

// x's values quantized into to: x.numel() bytes, channels-last when x is 4-D.
void quantize_u8_into(const torch::Tensor &x, const QuantParams &q, uint8_t *to);

// q: quint8 (per tensor) on the CPU. Returns float32 in q's memory format.
torch::Tensor dequantize_u8(const torch::Tensor &q);

// A residual block's sum kept in float32 (the residual stream), with the 8-bit
// copy the next convolution reads, made in one pass.
struct ResidualSum {
    torch::Tensor value; // float32
    torch::Tensor bytes; // quint8, quantized with the parameters given
};
// a: quint8 (a convolution's output); b: float32 or quint8, a's size.
ResidualSum residual_sum_u8(const torch::Tensor &a, const torch::Tensor &b, const QuantParams &q);

} // namespace dsfn
