// The 8-bit deformable convolution (deform_u8.h).
#include "kernels/deform_u8.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cstring>

#include "kernels/sample_taps.h"

// VNNI's byte products where the CPU has them (checked at run time); GCC on x86-64 only.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define DSFN_VNNI_TILES 1
#define DSFN_TARGET_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#endif

namespace dsfn {

namespace sampling {

namespace {

// A pixel's 32-bit sums to output codes, per output channel o:
// code = round((sum - offset[o]) * factor[o] + shift[o]), clamped to [0, 255].
// offset takes out the input's zero point (its code times the channel's weight
// sum); factor is input scale x weight scale / output scale; shift is the bias
// in output steps plus the output's zero point.
struct Requantize {
    const int32_t *offset;
    const float *factor;
    const float *shift;
};

// Any width, in plain integer loops: for CPUs without VNNI and other widths.
// Its sums are exactly VNNI's.
struct PlainProduct {
    static constexpr int pixels = 8;
    int64_t c;
    const int8_t *rows; // [co][9c]
    Requantize r;
    // Taps [first, first + count) of the row into tile.
    inline __attribute__((always_inline)) void fill(const RowTaps &taps, const uint8_t *image, const uint8_t *zeros,
                                                    int64_t first, int64_t count, uint8_t *tile) const
    {
        blend_taps<0>(taps, image, zeros, first, count, tile, c);
    }
    inline __attribute__((always_inline)) void operator()(const uint8_t *__restrict tile, uint8_t *__restrict out,
                                                          int np) const
    {
        const int64_t k = kTaps * c;
        for (int p = 0; p < np; p++)
            for (int64_t o = 0; o < c; o++) {
                const uint8_t *__restrict a = tile + p * k;
                const int8_t *__restrict w = rows + o * k;
                int32_t sum = 0;
                for (int64_t i = 0; i < k; i++)
                    sum += static_cast<int32_t>(a[i]) * static_cast<int32_t>(w[i]);
                out[p * c + o] = store_as(static_cast<float>(sum - r.offset[o]) * r.factor[o] + r.shift[o], out);
            }
    }
};

#ifdef DSFN_VNNI_TILES
// 16 codes as floats. The all-lanes masked forms, here and below: GCC 12 warns
// of its own undefined registers in the unmasked ones.
DSFN_TARGET_VNNI inline __attribute__((always_inline)) __m512 codes_as_floats(const uint8_t *p)
{
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    return _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepu8_epi32(0xffff, bytes));
}

// One tap's C codes (C a multiple of 16): its four corners' codes blended in
// float32 by multiply-adds in blend()'s order and rounded to nearest even, as
// store_as (a blend of codes needs no clamp above 255; the max guards below 0).
template <int C>
DSFN_TARGET_VNNI inline __attribute__((always_inline)) void
blend_codes(const uint8_t *__restrict p00, const uint8_t *__restrict p01, const uint8_t *__restrict p10,
            const uint8_t *__restrict p11, float w00, float w01, float w10, float w11, uint8_t *__restrict dst)
{
    const __mmask16 all = 0xffff;
    const __m512 a = _mm512_set1_ps(w00), b = _mm512_set1_ps(w01), c = _mm512_set1_ps(w10), d = _mm512_set1_ps(w11);
#pragma GCC unroll 4
    for (int v = 0; v < C / 16; v++) {
        __m512 sum = _mm512_mul_ps(a, codes_as_floats(p00 + 16 * v));
        sum = _mm512_fmadd_ps(b, codes_as_floats(p01 + 16 * v), sum);
        sum = _mm512_fmadd_ps(c, codes_as_floats(p10 + 16 * v), sum);
        sum = _mm512_fmadd_ps(d, codes_as_floats(p11 + 16 * v), sum);
        const __m512i code = _mm512_maskz_max_epi32(all, _mm512_maskz_cvtps_epi32(all, sum), _mm512_setzero_si512());
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + 16 * v), _mm512_maskz_cvtusepi32_epi8(all, code));
    }
}

// 32 or 64 channels: tiles of P pixels times weights [9C / 4][C][4], four byte
// products summed into each 32-bit lane per instruction (vpdpbusd: unsigned
// activations, signed weights, no intermediate saturation).
template <int C>
struct VnniProduct {
    static constexpr int pixels = C == 32 ? 8 : 6; // P x C / 16 accumulators: 16 or 24 registers
    const int8_t *quads;
    Requantize r;
    // As blend_taps, with blend_codes.
    DSFN_TARGET_VNNI void fill(const RowTaps &taps, const uint8_t *image, const uint8_t *zeros, int64_t first,
                               int64_t count, uint8_t *tile) const
    {
        const int64_t n = taps.taps;
        const int32_t *i00 = taps.index.data(), *i01 = i00 + n, *i10 = i01 + n, *i11 = i10 + n;
        const float *w00 = taps.weight.data(), *w01 = w00 + n, *w10 = w01 + n, *w11 = w10 + n;
        auto corner = [&](int32_t at) { return at >= 0 ? image + at * C : zeros; };
        for (int64_t i = first; i < first + count; i++, tile += C)
            blend_codes<C>(corner(i00[i]), corner(i01[i]), corner(i10[i]), corner(i11[i]), w00[i], w01[i], w10[i],
                           w11[i], tile);
    }
    DSFN_TARGET_VNNI void operator()(const uint8_t *__restrict tile, uint8_t *__restrict out, int np) const
    {
        constexpr int K = kTaps * C, V = C / 16, P = pixels;
        __m512i acc[P][V];
#pragma GCC unroll 8
        for (int p = 0; p < P; p++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++)
                acc[p][v] = _mm512_setzero_si512();
        for (int k = 0; k < K; k += 4) {
            __m512i wv[V];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++)
                wv[v] = _mm512_loadu_si512(quads + k * C + 64 * v);
#pragma GCC unroll 8
            for (int p = 0; p < P; p++) {
                uint32_t quad; // pixel p's values k to k + 3
                std::memcpy(&quad, tile + p * K + k, sizeof quad);
                const __m512i a = _mm512_set1_epi32(static_cast<int>(quad));
#pragma GCC unroll 4
                for (int v = 0; v < V; v++)
                    acc[p][v] = _mm512_dpbusd_epi32(acc[p][v], a, wv[v]);
            }
        }
        const __m512i lo = _mm512_setzero_si512(), hi = _mm512_set1_epi32(255);
        const __mmask16 all = 0xffff;
        for (int p = 0; p < np; p++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) {
                const __m512i sum = _mm512_sub_epi32(acc[p][v], _mm512_loadu_si512(r.offset + 16 * v));
                const __m512 y = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(all, sum), _mm512_loadu_ps(r.factor + 16 * v),
                                                 _mm512_loadu_ps(r.shift + 16 * v));
                // Rounded to nearest even (the default rounding mode), as store_as.
                const __m512i code =
                    _mm512_maskz_min_epi32(all, _mm512_maskz_max_epi32(all, _mm512_maskz_cvtps_epi32(all, y), lo), hi);
                _mm_storeu_si128(reinterpret_cast<__m128i *>(out + p * C + 16 * v),
                                 _mm512_maskz_cvtepi32_epi8(all, code));
            }
    }
};
#endif

DSFN_VECTOR_CLONES void sample_multiply_rows_plain(const Geometry &g, const uint8_t *input, const float *offset,
                                                   const uint8_t *zeros, const PlainProduct &product, uint8_t *out,
                                                   int64_t begin, int64_t end)
{
    sample_multiply_rows<0>(g, input, offset, zeros, product, out, begin, end);
}

#ifdef DSFN_VNNI_TILES
DSFN_TARGET_VNNI void sample_multiply_rows_vnni(const Geometry &g, const uint8_t *input, const float *offset,
                                                const uint8_t *zeros, const int8_t *quads, const Requantize &r,
                                                uint8_t *out, int64_t begin, int64_t end)
{
    if (g.c == 32)
        sample_multiply_rows<32>(g, input, offset, zeros, VnniProduct<32>{quads, r}, out, begin, end);
    else
        sample_multiply_rows<64>(g, input, offset, zeros, VnniProduct<64>{quads, r}, out, begin, end);
}
#endif

} // namespace

} // namespace sampling

DeformConvU8::DeformConvU8(const torch::Tensor &weight, const torch::Tensor &bias)
{
    TORCH_CHECK(weight.scalar_type() == torch::kQInt8 && weight.qscheme() == at::kPerChannelAffine &&
                    weight.dim() == 4 && weight.size(0) == weight.size(1) && weight.size(2) == 3 && weight.size(3) == 3,
                "int8 warp: weights qint8 [c, c, 3, 3] per output channel expected");
    c_ = weight.size(0);
    const int64_t k = kDeformTaps * c_;
    // [co, c, 3, 3] -> [co][(tap, channel)]: the order the tiles are sampled in.
    const auto values = weight.int_repr().permute({0, 2, 3, 1}).reshape({c_, k}).contiguous();
    rows_.assign(values.data_ptr<int8_t>(), values.data_ptr<int8_t>() + values.numel());
    row_sums_.assign(c_, 0);
    for (int64_t o = 0; o < c_; o++)
        for (int64_t i = 0; i < k; i++)
            row_sums_[o] += rows_[o * k + i];
    if (k % 4 == 0) {
        quads_.resize(rows_.size());
        for (int64_t q = 0; q < k / 4; q++)
            for (int64_t o = 0; o < c_; o++)
                for (int64_t j = 0; j < 4; j++)
                    quads_[(q * c_ + o) * 4 + j] = rows_[o * k + 4 * q + j];
    }
    const auto scales = weight.q_per_channel_scales().to(torch::kFloat).contiguous();
    weight_scale_.assign(scales.data_ptr<float>(), scales.data_ptr<float>() + c_);
    bias_.assign(c_, 0.f);
    if (bias.defined()) {
        TORCH_CHECK(bias.numel() == c_, "int8 warp: bias [c] expected");
        const auto b = bias.detach().to(torch::kFloat).contiguous();
        std::copy(b.data_ptr<float>(), b.data_ptr<float>() + c_, bias_.begin());
    }
}

bool DeformConvU8::uses_vnni() const
{
#ifdef DSFN_VNNI_TILES
    return (c_ == 32 || c_ == 64) && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
#else
    return false;
#endif
}

void DeformConvU8::run(const torch::Tensor &input, const torch::Tensor &offset, const QuantParams &out,
                       uint8_t *dst) const
{
    // A range of its own in LibTorch's profiler (dsfn-tool profile); nothing when it is off.
    RECORD_FUNCTION("dsfn::int8_warp", std::vector<c10::IValue>());
    TORCH_CHECK(input.scalar_type() == torch::kQUInt8 && input.qscheme() == at::kPerTensorAffine && input.dim() == 4 &&
                    input.size(1) == c_,
                "int8 warp: quint8 features [n, ", c_, ", h, w] expected");
    const int64_t n = input.size(0), h = input.size(2), w = input.size(3);
    TORCH_CHECK(offset.dim() == 4 && offset.size(0) == n && offset.size(1) == 2 * kDeformTaps && offset.size(2) == h &&
                    offset.size(3) == w,
                "int8 warp: offset [n, 18, h, w] expected");
    TORCH_CHECK(h * w < (int64_t(1) << 31), "int8 warp: pictures of at most 2^31 pixels (32-bit indices)");
    const auto features = input.contiguous(at::MemoryFormat::ChannelsLast);
    const auto *codes = reinterpret_cast<const uint8_t *>(features.data_ptr<c10::quint8>());
    const auto off = offset_rows(offset);

    const double in_scale = features.q_scale();
    const auto in_zero = static_cast<int32_t>(features.q_zero_point());
    // Outside the picture the features are zero: their zero point's code.
    const std::vector<uint8_t> zeros(c_, static_cast<uint8_t>(in_zero));
    std::vector<int32_t> offsets(c_);
    std::vector<float> factors(c_), shifts(c_);
    for (int64_t o = 0; o < c_; o++) {
        offsets[o] = in_zero * row_sums_[o];
        factors[o] = static_cast<float>(in_scale * weight_scale_[o] / out.scale);
        shifts[o] = static_cast<float>(bias_[o] / out.scale + static_cast<double>(out.zero_point));
    }
    const sampling::Requantize r{offsets.data(), factors.data(), shifts.data()};
    const sampling::Geometry g{h, w, c_, off.stride};
    const float *off_data = off.values.data_ptr<float>();
    const bool vnni = uses_vnni();
    at::parallel_for(0, n * h, 1, [&](int64_t begin, int64_t end) {
#ifdef DSFN_VNNI_TILES
        if (vnni) {
            sampling::sample_multiply_rows_vnni(g, codes, off_data, zeros.data(), quads_.data(), r, dst, begin, end);
            return;
        }
#endif
        sampling::sample_multiply_rows_plain(g, codes, off_data, zeros.data(),
                                             sampling::PlainProduct{c_, rows_.data(), r}, dst, begin, end);
    });
}

torch::Tensor DeformConvU8::operator()(const torch::Tensor &input, const torch::Tensor &offset,
                                       const QuantParams &out) const
{
    auto y =
        at::_empty_affine_quantized({input.size(0), c_, input.size(2), input.size(3)}, torch::dtype(torch::kQUInt8),
                                    out.scale, out.zero_point, at::MemoryFormat::ChannelsLast);
    run(input, offset, out, reinterpret_cast<uint8_t *>(y.data_ptr<c10::quint8>()));
    return y;
}

} // namespace dsfn
