#include "kernels/quantize_u8.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace dsfn {

namespace {

constexpr int64_t kGrain = 1 << 15; // values per task: a few tens of microseconds

at::MemoryFormat layout_of(const torch::Tensor &x)
{
    return x.dim() == 4 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// n values of from into to.
void quantize_values(const float *from, uint8_t *to, int64_t n, const QuantParams &q)
{
    const float inverse = static_cast<float>(1.0 / q.scale);
    const float zero = static_cast<float>(q.zero_point);
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
        // Adding 2^23 rounds to an integer (ties to even, as nearbyint) and
        // leaves it in the low mantissa bits; the clamp first keeps it in [0, 255]
        // and sends NaN to 0. A loop GCC vectorises.
        for (int64_t i = begin; i < end; i++) {
            float v = from[i] * inverse + zero;
            v = v > 0.0f ? (v < 255.0f ? v : 255.0f) : 0.0f;
            const float shifted = v + 8388608.0f;
            uint32_t bits;
            std::memcpy(&bits, &shifted, sizeof bits);
            to[i] = static_cast<uint8_t>(bits);
        }
    });
}

} // namespace

QuantParams quant_params(double lo, double hi)
{
    if (!std::isfinite(lo) || !std::isfinite(hi))
        throw std::invalid_argument("quantization range is not finite");
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
    QuantParams q;
    if (hi - lo <= 0.0)
        return q;
    q.scale = (hi - lo) / 255.0;
    q.zero_point = std::clamp<int64_t>(std::llround(-lo / q.scale), 0, 255);
    return q;
}

torch::Tensor quantize_u8(const torch::Tensor &x, const QuantParams &q)
{
    return quantize_u8(std::vector<torch::Tensor>{x}, q);
}

torch::Tensor quantize_u8(const std::vector<torch::Tensor> &parts, const QuantParams &q)
{
    RECORD_FUNCTION("dsfn::quantize", std::vector<c10::IValue>()); // for dsfn-tool profile
    if (parts.empty())
        throw std::invalid_argument("quantize_u8: nothing to quantize");
    const auto format = layout_of(parts[0]);
    auto sizes = parts[0].sizes().vec();
    for (size_t i = 1; i < parts.size(); i++) {
        if (parts[i].dim() != parts[0].dim() || parts[i].sizes().slice(1) != parts[0].sizes().slice(1))
            throw std::invalid_argument("quantize_u8: parts differ in more than their first size");
        sizes[0] += parts[i].size(0);
    }
    auto out =
        at::_empty_affine_quantized(sizes, parts[0].options().dtype(torch::kQUInt8), q.scale, q.zero_point, format);
    // In both layouts the first dimension is outermost: each part is one run of bytes.
    auto *to = reinterpret_cast<uint8_t *>(out.data_ptr<c10::quint8>());
    for (const auto &part : parts) {
        const auto src = part.to(torch::kFloat).contiguous(format);
        quantize_values(src.data_ptr<float>(), to, src.numel(), q);
        to += src.numel();
    }
    return out;
}

torch::Tensor dequantize_u8(const torch::Tensor &q)
{
    RECORD_FUNCTION("dsfn::dequantize", std::vector<c10::IValue>()); // for dsfn-tool profile
    if (q.scalar_type() != torch::kQUInt8 || q.qscheme() != at::kPerTensorAffine)
        throw std::invalid_argument("dequantize_u8 takes a quint8 tensor quantized per tensor");
    const auto format = layout_of(q);
    const auto src = q.contiguous(format);
    auto out = torch::empty(src.sizes(), torch::TensorOptions().dtype(torch::kFloat), format);
    const auto *from = reinterpret_cast<const uint8_t *>(src.data_ptr<c10::quint8>());
    float *to = out.data_ptr<float>();
    const float scale = static_cast<float>(src.q_scale());
    const float zero = static_cast<float>(src.q_zero_point());
    at::parallel_for(0, src.numel(), kGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; i++)
            to[i] = (static_cast<float>(from[i]) - zero) * scale;
    });
    return out;
}

} // namespace dsfn
