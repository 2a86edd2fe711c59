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

// Narrowing floats to bytes does not vectorise with the baseline's SSE2 (a
// quarter of AVX-512's speed): GCC compiles each loop below for AVX-512, AVX2 and
// the baseline, and the dynamic loader picks the one this CPU runs.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DSFN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DSFN_VECTOR_CLONES
#endif

at::MemoryFormat layout_of(const torch::Tensor &x)
{
    return x.dim() == 4 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// One value to 8 bits: adding 2^23 rounds to an integer (ties to even, as
// nearbyint) and leaves it in the low mantissa bits; the clamp first keeps it in
// [0, 255] and sends NaN to 0. Loops of it GCC vectorises.
inline uint8_t to_u8(float value, float inverse, float zero)
{
    float v = value * inverse + zero;
    v = v > 0.0f ? (v < 255.0f ? v : 255.0f) : 0.0f;
    const float shifted = v + 8388608.0f;
    uint32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    return static_cast<uint8_t>(bits);
}

DSFN_VECTOR_CLONES
void quantize_range(const float *from, uint8_t *to, int64_t begin, int64_t end, float inverse, float zero)
{
    for (int64_t i = begin; i < end; i++)
        to[i] = to_u8(from[i], inverse, zero);
}

DSFN_VECTOR_CLONES
void dequantize_range(const uint8_t *from, float *to, int64_t begin, int64_t end, float scale, float zero)
{
    for (int64_t i = begin; i < end; i++)
        to[i] = (static_cast<float>(from[i]) - zero) * scale;
}

// Pixels [begin, end) of a channels-last map of c values a pixel into to, whose
// pixels are stride bytes apart.
DSFN_VECTOR_CLONES
void quantize_pixels(const float *from, int64_t c, uint8_t *to, int64_t stride, int64_t begin, int64_t end,
                     float inverse, float zero)
{
    for (int64_t p = begin; p < end; p++) {
        const float *__restrict f = from + p * c;
        uint8_t *__restrict t = to + p * stride;
        for (int64_t i = 0; i < c; i++)
            t[i] = to_u8(f[i], inverse, zero);
    }
}

// to_f = a + b and to_q = its bytes, a in bytes, b in float or (b8) in bytes.
struct SumTerms {
    const uint8_t *a;
    float scale_a, zero_a;
    const float *b;
    const uint8_t *b8;
    float scale_b, zero_b;
    float *to_f;
    uint8_t *to_q;
    float inverse, zero;
};

DSFN_VECTOR_CLONES
void sum_range(const SumTerms &t, int64_t begin, int64_t end)
{
    const uint8_t *__restrict a = t.a;
    const float *__restrict b = t.b;
    float *__restrict to_f = t.to_f;
    uint8_t *__restrict to_q = t.to_q;
    const float scale_a = t.scale_a, zero_a = t.zero_a, inverse = t.inverse, zero = t.zero;
    for (int64_t i = begin; i < end; i++) {
        const float sum = (static_cast<float>(a[i]) - zero_a) * scale_a + b[i];
        to_f[i] = sum;
        to_q[i] = to_u8(sum, inverse, zero);
    }
}

DSFN_VECTOR_CLONES
void sum_range_bytes(const SumTerms &t, int64_t begin, int64_t end)
{
    const uint8_t *__restrict a = t.a;
    const uint8_t *__restrict b = t.b8;
    float *__restrict to_f = t.to_f;
    uint8_t *__restrict to_q = t.to_q;
    const float scale_a = t.scale_a, zero_a = t.zero_a, scale_b = t.scale_b, zero_b = t.zero_b;
    const float inverse = t.inverse, zero = t.zero;
    for (int64_t i = begin; i < end; i++) {
        const float sum = (static_cast<float>(a[i]) - zero_a) * scale_a + (static_cast<float>(b[i]) - zero_b) * scale_b;
        to_f[i] = sum;
        to_q[i] = to_u8(sum, inverse, zero);
    }
}

// n values of from into to.
void quantize_values(const float *from, uint8_t *to, int64_t n, const QuantParams &q)
{
    const float inverse = static_cast<float>(1.0 / q.scale);
    const float zero = static_cast<float>(q.zero_point);
    at::parallel_for(0, n, kGrain,
                     [&](int64_t begin, int64_t end) { quantize_range(from, to, begin, end, inverse, zero); });
}

const uint8_t *bytes_of(const torch::Tensor &q)
{
    if (q.scalar_type() != torch::kQUInt8 || q.qscheme() != at::kPerTensorAffine)
        throw std::invalid_argument("expected a quint8 tensor quantized per tensor");
    return reinterpret_cast<const uint8_t *>(q.data_ptr<c10::quint8>());
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
        quantize_u8_into(part, q, to);
        to += part.numel();
    }
    return out;
}

void quantize_u8_into(const torch::Tensor &x, const QuantParams &q, uint8_t *to)
{
    const auto src = x.to(torch::kFloat).contiguous(layout_of(x));
    quantize_values(src.data_ptr<float>(), to, src.numel(), q);
}

torch::Tensor quantize_u8_channels(const std::vector<torch::Tensor> &parts, const QuantParams &q)
{
    RECORD_FUNCTION("dsfn::quantize", std::vector<c10::IValue>()); // for dsfn-tool profile
    if (parts.empty())
        throw std::invalid_argument("quantize_u8_channels: nothing to quantize");
    int64_t channels = 0;
    for (const auto &part : parts) {
        if (part.dim() != 4 || part.size(0) != parts[0].size(0) || part.sizes().slice(2) != parts[0].sizes().slice(2))
            throw std::invalid_argument("quantize_u8_channels: parts [n, c, h, w] that differ only in c expected");
        channels += part.size(1);
    }
    const int64_t n = parts[0].size(0), h = parts[0].size(2), w = parts[0].size(3);
    auto out = at::_empty_affine_quantized({n, channels, h, w}, parts[0].options().dtype(torch::kQUInt8), q.scale,
                                           q.zero_point, at::MemoryFormat::ChannelsLast);
    auto *to = reinterpret_cast<uint8_t *>(out.data_ptr<c10::quint8>());
    const float inverse = static_cast<float>(1.0 / q.scale);
    const float zero = static_cast<float>(q.zero_point);
    const int64_t pixels = n * h * w;
    for (const auto &part : parts) {
        const auto src = part.to(torch::kFloat).contiguous(at::MemoryFormat::ChannelsLast);
        const int64_t c = part.size(1);
        const float *from = src.data_ptr<float>();
        at::parallel_for(0, pixels, std::max<int64_t>(1, kGrain / std::max<int64_t>(c, 1)),
                         [&](int64_t b, int64_t e) { quantize_pixels(from, c, to, channels, b, e, inverse, zero); });
        to += c;
    }
    return out;
}

torch::Tensor dequantize_u8(const torch::Tensor &q)
{
    RECORD_FUNCTION("dsfn::dequantize", std::vector<c10::IValue>()); // for dsfn-tool profile
    const auto format = layout_of(q);
    const auto src = q.contiguous(format);
    const auto *from = bytes_of(src);
    auto out = torch::empty(src.sizes(), torch::TensorOptions().dtype(torch::kFloat), format);
    float *to = out.data_ptr<float>();
    const float scale = static_cast<float>(src.q_scale());
    const float zero = static_cast<float>(src.q_zero_point());
    at::parallel_for(0, src.numel(), kGrain,
                     [&](int64_t begin, int64_t end) { dequantize_range(from, to, begin, end, scale, zero); });
    return out;
}

ResidualSum residual_sum_u8(const torch::Tensor &a, const torch::Tensor &b, const QuantParams &q)
{
    RECORD_FUNCTION("dsfn::residual_sum", std::vector<c10::IValue>()); // for dsfn-tool profile
    if (a.sizes() != b.sizes())
        throw std::invalid_argument("residual_sum_u8: the two terms differ in size");
    const auto format = layout_of(a);
    const auto qa = a.contiguous(format);
    const auto *from_a = bytes_of(qa);
    // b: the float stream, or (the first block of a SubModule) the 8-bit output of its head.
    const bool b_bytes = b.is_quantized();
    const auto tb = b_bytes ? b.contiguous(format) : b.to(torch::kFloat).contiguous(format);
    const uint8_t *from_b8 = b_bytes ? bytes_of(tb) : nullptr;
    const float *from_bf = b_bytes ? nullptr : tb.data_ptr<float>();

    ResidualSum out;
    out.value = torch::empty(qa.sizes(), torch::TensorOptions().dtype(torch::kFloat), format);
    out.bytes = at::_empty_affine_quantized(qa.sizes(), qa.options(), q.scale, q.zero_point, format);
    SumTerms t{};
    t.a = from_a;
    t.scale_a = static_cast<float>(qa.q_scale());
    t.zero_a = static_cast<float>(qa.q_zero_point());
    t.b = from_bf;
    t.b8 = from_b8;
    t.scale_b = b_bytes ? static_cast<float>(tb.q_scale()) : 1.0f;
    t.zero_b = b_bytes ? static_cast<float>(tb.q_zero_point()) : 0.0f;
    t.to_f = out.value.data_ptr<float>();
    t.to_q = reinterpret_cast<uint8_t *>(out.bytes.data_ptr<c10::quint8>());
    t.inverse = static_cast<float>(1.0 / q.scale);
    t.zero = static_cast<float>(q.zero_point);
    at::parallel_for(0, qa.numel(), kGrain, [&](int64_t begin, int64_t end) {
        if (b_bytes)
            sum_range_bytes(t, begin, end);
        else
            sum_range(t, begin, end);
    });
    return out;
}

} // namespace dsfn
