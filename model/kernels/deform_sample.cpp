#include "kernels/deform_sample.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

// The channel loops are what matters: built with -O3 (Makefile) and, with GCC on
// x86-64, cloned for AVX-512 and AVX2 and picked at load time, since the package
// build targets baseline x86-64.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DSFN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define DSFN_VECTOR_CLONES
#endif

// bf16 tiles use AVX512-BF16 pair products where the CPU has them (checked at run
// time); GCC on x86-64 only.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define DSFN_BF16_TILES 1
#define DSFN_TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#endif

namespace dsfn {

namespace sampling {

constexpr int kTaps = kDeformTaps;

struct Geometry {
    int64_t h, w, c;
};

inline float store_as(float v, float *) { return v; }

// Round to nearest even, as c10::BFloat16 does, but branch-free so the loop
// vectorises (a NaN with only low mantissa bits would become infinity; the
// network's features are finite).
inline uint16_t store_as(float v, uint16_t *)
{
    uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

inline float load(float v) { return v; }

// bfloat16 is the top half of a float.
inline float load(uint16_t v)
{
    const uint32_t u = static_cast<uint32_t>(v) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// The four bilinear corners of every tap of one picture row: pixel indices into
// the image (-1: outside the picture, reads zeros) and weights, [4][w * 9].
// Computed for the whole row in one branch-free pass that the compiler
// vectorises; per tap and channel this leaves only the blend below.
struct RowTaps {
    explicit RowTaps(int64_t w)
        : taps(w * kTaps), x(taps), dy(taps), index(4 * taps), weight(4 * taps)
    {
        for (int64_t i = 0; i < taps; i++) {
            x[i] = static_cast<float>(i / kTaps + i % kTaps % 3 - 1);
            dy[i] = static_cast<float>(i % kTaps / 3 - 1);
        }
    }

    // offset: the row's [w, 18] offsets (y, x shift of each tap).
    __attribute__((always_inline)) void fill(const Geometry &g, int64_t y, const float *__restrict offset)
    {
        const float fh = static_cast<float>(g.h), fw = static_cast<float>(g.w);
        const int32_t h = static_cast<int32_t>(g.h), w = static_cast<int32_t>(g.w);
        int32_t *__restrict i00 = index.data(), *__restrict i01 = i00 + taps, *__restrict i10 = i01 + taps,
                             *__restrict i11 = i10 + taps;
        float *__restrict w00 = weight.data(), *__restrict w01 = w00 + taps, *__restrict w10 = w01 + taps,
                           *__restrict w11 = w10 + taps;
        const float *__restrict px = x.data(), *__restrict pdy = dy.data();
        const int64_t n = taps;
#pragma GCC ivdep // the eight outputs and the inputs are distinct arrays
        for (int64_t i = 0; i < n; i++) {
            float sy = static_cast<float>(y) + pdy[i] + offset[2 * i];
            float sx = px[i] + offset[2 * i + 1];
            // Also false for NaN: no corner inside the picture, the sample is zero.
            const bool inside = (sy > -1.0f) & (sy < fh) & (sx > -1.0f) & (sx < fw); // & not &&: no branches
            sy = inside ? sy : 0.0f;
            sx = inside ? sx : 0.0f;
            // floor() by truncation (exact in this range): std::floor does not vectorise.
            int32_t y0 = static_cast<int32_t>(sy), x0 = static_cast<int32_t>(sx);
            y0 -= static_cast<float>(y0) > sy;
            x0 -= static_cast<float>(x0) > sx;
            const float ly = sy - static_cast<float>(y0), lx = sx - static_cast<float>(x0);
            const bool top = inside & (y0 >= 0), bottom = inside & (y0 + 1 < h), left = x0 >= 0, right = x0 + 1 < w;
            const int32_t at = y0 * w + x0;
            i00[i] = top & left ? at : -1;
            i01[i] = top & right ? at + 1 : -1;
            i10[i] = bottom & left ? at + w : -1;
            i11[i] = bottom & right ? at + w + 1 : -1;
            w00[i] = (1 - ly) * (1 - lx);
            w01[i] = (1 - ly) * lx;
            w10[i] = ly * (1 - lx);
            w11[i] = ly * lx;
        }
    }

    int64_t taps;
    std::vector<float> x, dy; // each tap's column plus its kernel shift, and its row shift
    std::vector<int32_t> index;
    std::vector<float> weight;
};

// One tap's c channels: the weighted sum of its four corners. C > 0 fixes the
// channel count at compile time (fully unrolled vectors); C = 0 reads it from c.
template <int C, typename In, typename Out>
inline __attribute__((always_inline)) void blend(const In *__restrict p00, const In *__restrict p01,
                                                const In *__restrict p10, const In *__restrict p11, float w00,
                                                float w01, float w10, float w11, Out *__restrict dst, int64_t c)
{
    const int64_t n = C > 0 ? C : c;
    for (int64_t ch = 0; ch < n; ch++)
        dst[ch] = store_as(w00 * load(p00[ch]) + w01 * load(p01[ch]) + w10 * load(p10[ch]) + w11 * load(p11[ch]),
                           dst);
}

// Taps [first, first + count) of the row whose corners are in `taps`, one after
// the other into dst (c values each). image: that row's picture, [h, w, c];
// zeros: c zero values of its type, read for corners outside the picture.
template <int C, typename In, typename Out>
inline __attribute__((always_inline)) void blend_taps(const RowTaps &taps, const In *image, const In *zeros,
                                                     int64_t first, int64_t count, Out *dst, int64_t c)
{
    const int64_t n = taps.taps;
    const int32_t *i00 = taps.index.data(), *i01 = i00 + n, *i10 = i01 + n, *i11 = i10 + n;
    const float *w00 = taps.weight.data(), *w01 = w00 + n, *w10 = w01 + n, *w11 = w10 + n;
    auto corner = [&](int32_t at) { return at >= 0 ? image + at * c : zeros; };
    for (int64_t i = first; i < first + count; i++, dst += c)
        blend<C>(corner(i00[i]), corner(i01[i]), corner(i10[i]), corner(i11[i]), w00[i], w01[i], w10[i], w11[i], dst,
                 c);
}

// Row `row` of the batch's (image, y) rows: its corners into taps; returns its
// picture in input [n, h, w, c].
template <typename In>
inline __attribute__((always_inline)) const In *start_row(RowTaps &taps, const Geometry &g, const In *input,
                                                         const float *offset, int64_t row)
{
    const int64_t y = row % g.h;
    taps.fill(g, y, offset + row * g.w * 2 * kTaps);
    return input + (row - y) * g.w * g.c;
}

// Rows [begin, end) of the batch's (image, y) rows. input [n, h, w, c] (fp32 or
// bf16 bits) and offset [n, h, w, 18] fp32; cols [end - begin, w, 9, c] receives
// those rows. zeros: c zero values of the input's type.
template <int C, typename In, typename Out>
inline __attribute__((always_inline)) void sample_rows_of(const Geometry &g, const In *input, const float *offset,
                                                         Out *cols, const In *zeros, int64_t begin, int64_t end)
{
    const int64_t c = C > 0 ? C : g.c;
    RowTaps taps(g.w);
    for (int64_t row = begin; row < end; row++) {
        const In *image = start_row(taps, g, input, offset, row);
        blend_taps<C>(taps, image, zeros, 0, taps.taps, cols + (row - begin) * taps.taps * c, c);
    }
}

// The network's feature widths (2 x 16, 32, 64) get their own unrolled loops.
template <typename In, typename Out>
inline __attribute__((always_inline)) void sample_rows(const Geometry &g, const In *input, const float *offset,
                                                      Out *cols, const In *zeros, int64_t begin, int64_t end)
{
    switch (g.c) {
    case 32:
        return sample_rows_of<32>(g, input, offset, cols, zeros, begin, end);
    case 64:
        return sample_rows_of<64>(g, input, offset, cols, zeros, begin, end);
    case 128:
        return sample_rows_of<128>(g, input, offset, cols, zeros, begin, end);
    default:
        return sample_rows_of<0>(g, input, offset, cols, zeros, begin, end);
    }
}

DSFN_VECTOR_CLONES void sample_rows_fp32(const Geometry &g, const float *input, const float *offset, float *cols,
                                         const float *zeros, int64_t begin, int64_t end)
{
    sample_rows(g, input, offset, cols, zeros, begin, end);
}

DSFN_VECTOR_CLONES void sample_rows_fp32_to_bf16(const Geometry &g, const float *input, const float *offset,
                                                 uint16_t *cols, const float *zeros, int64_t begin, int64_t end)
{
    sample_rows(g, input, offset, cols, zeros, begin, end);
}

DSFN_VECTOR_CLONES void sample_rows_bf16(const Geometry &g, const uint16_t *input, const float *offset,
                                         uint16_t *cols, const uint16_t *zeros, int64_t begin, int64_t end)
{
    sample_rows(g, input, offset, cols, zeros, begin, end);
}

// --- Sampling and product fused (32 or 64 channels in and out) ----------------------
// A tile of pixels is sampled into a small matrix that stays in L1 and multiplied
// there, so the im2col matrix (9x the features) never goes through memory: 1.2-1.4x
// faster than sampling bands for oneDNN to multiply (bench/REPORT.md, 2026-11-30).
typedef float Vec16 __attribute__((vector_size(64), aligned(4))); // 16 floats, any alignment

// Pixels per tile: P x CO / 16 accumulators, 16 or 24 of the 32 vector registers.
template <int CO>
constexpr int tile_pixels()
{
    return CO == 32 ? 8 : 6;
}

// out[p][0..CO) = bias + tile[p][0..K) x wk[K][CO] for the first np of P pixels.
template <int K, int CO, int P>
inline __attribute__((always_inline)) void tile_product(const float *__restrict tile, const float *__restrict wk,
                                                       const float *__restrict bias, float *__restrict out, int np)
{
    constexpr int V = CO / 16;
    Vec16 acc[P][V];
#pragma GCC unroll 8
    for (int p = 0; p < P; p++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
            acc[p][v] = *reinterpret_cast<const Vec16 *>(bias + 16 * v);
    for (int k = 0; k < K; k++) {
        Vec16 wv[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
            wv[v] = *reinterpret_cast<const Vec16 *>(wk + k * CO + 16 * v);
#pragma GCC unroll 8
        for (int p = 0; p < P; p++) {
            const float a = tile[p * K + k];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++)
                acc[p][v] += a * wv[v];
        }
    }
    for (int p = 0; p < np; p++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
            *reinterpret_cast<Vec16 *>(out + p * CO + 16 * v) = acc[p][v];
}

// fp32 tiles times fp32 weights wk [9C][C].
template <int C>
struct Fp32Product {
    static constexpr int pixels = tile_pixels<C>();
    const float *wk, *bias;
    inline __attribute__((always_inline)) void operator()(const float *tile, float *out, int np) const
    {
        tile_product<kTaps * C, C, pixels>(tile, wk, bias, out, np);
    }
};

#ifdef DSFN_BF16_TILES
// bf16 tiles times bf16 weights wk2 [9C / 2][C][2] (rows paired), accumulated in
// fp32 by AVX512-BF16's pair products and rounded to bf16 on the way out, as
// oneDNN's bf16 convolution does.
template <int C>
struct Bf16Product {
    static constexpr int pixels = tile_pixels<C>();
    const uint16_t *wk2;
    const float *bias;
    DSFN_TARGET_BF16 void operator()(const uint16_t *__restrict tile, uint16_t *__restrict out, int np) const
    {
        constexpr int K = kTaps * C, V = C / 16, P = pixels;
        __m512 acc[P][V];
#pragma GCC unroll 8
        for (int p = 0; p < P; p++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++)
                acc[p][v] = _mm512_loadu_ps(bias + 16 * v);
        for (int k = 0; k < K; k += 2) {
            __m512bh wv[V];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++)
                wv[v] = (__m512bh)_mm512_loadu_si512(wk2 + k * C + 32 * v);
#pragma GCC unroll 8
            for (int p = 0; p < P; p++) {
                uint32_t pair; // taps' values k and k + 1 of pixel p
                std::memcpy(&pair, tile + p * K + k, sizeof pair);
                const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(pair));
#pragma GCC unroll 4
                for (int v = 0; v < V; v++)
                    acc[p][v] = _mm512_dpbf16_ps(acc[p][v], a, wv[v]);
            }
        }
        for (int p = 0; p < np; p++)
            for (int v = 0; v < V; v++)
                _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + p * C + 16 * v),
                                    (__m256i)_mm512_cvtneps_pbh(acc[p][v]));
    }
};
#endif

// Rows [begin, end) of the batch into out [rows, w, C] (channels-last): each tile
// of Product::pixels pixels sampled into a small matrix of out's type, then
// multiplied by product(tile, out, pixels in the tile).
template <int C, typename In, typename T, typename Product>
inline __attribute__((always_inline)) void sample_multiply_rows_of(const Geometry &g, const In *input,
                                                                  const float *offset, const In *zeros,
                                                                  const Product &product, T *out, int64_t begin,
                                                                  int64_t end)
{
    constexpr int P = Product::pixels;
    const int64_t w = g.w;
    RowTaps taps(w);
    std::vector<T> tile(P * kTaps * C, T(0)); // zeros past a row's end: never stored, but defined
    for (int64_t row = begin; row < end; row++) {
        const In *image = start_row(taps, g, input, offset, row);
        for (int64_t x0 = 0; x0 < w; x0 += P) {
            const int np = static_cast<int>(std::min<int64_t>(P, w - x0));
            blend_taps<C>(taps, image, zeros, x0 * kTaps, np * kTaps, tile.data(), C); // [np][9][C]
            product(tile.data(), out + (row * w + x0) * C, np);
        }
    }
}

DSFN_VECTOR_CLONES void sample_multiply_rows_fp32(const Geometry &g, const float *input, const float *offset,
                                                  const float *wk, const float *bias, float *out, const float *zeros,
                                                  int64_t begin, int64_t end)
{
    if (g.c == 32)
        sample_multiply_rows_of<32>(g, input, offset, zeros, Fp32Product<32>{wk, bias}, out, begin, end);
    else
        sample_multiply_rows_of<64>(g, input, offset, zeros, Fp32Product<64>{wk, bias}, out, begin, end);
}

#ifdef DSFN_BF16_TILES
// In: the features' type, bf16, or fp32 for fp32 features into a bf16 model.
template <typename In>
DSFN_TARGET_BF16 void sample_multiply_rows_bf16(const Geometry &g, const In *input, const float *offset,
                                                const uint16_t *wk2, const float *bias, uint16_t *out,
                                                const In *zeros, int64_t begin, int64_t end)
{
    if (g.c == 32)
        sample_multiply_rows_of<32>(g, input, offset, zeros, Bf16Product<32>{wk2, bias}, out, begin, end);
    else
        sample_multiply_rows_of<64>(g, input, offset, zeros, Bf16Product<64>{wk2, bias}, out, begin, end);
}
#endif

// The raw bits of a bfloat16 tensor, for the loops above.
inline uint16_t *bf16_bits(const torch::Tensor &t)
{
    return reinterpret_cast<uint16_t *>(t.data_ptr<at::BFloat16>());
}

} // namespace sampling

DeformSampler::DeformSampler(const torch::Tensor &input, const torch::Tensor &offset, c10::ScalarType type)
    : type_(type)
{
    TORCH_CHECK(type == torch::kFloat || type == torch::kBFloat16, "deform sampler: float or bfloat16 output");
    TORCH_CHECK(input.dim() == 4 && offset.dim() == 4 && offset.size(1) == 2 * sampling::kTaps &&
                    offset.size(0) == input.size(0) && offset.size(2) == input.size(2) &&
                    offset.size(3) == input.size(3),
                "deform sampler: input [n, c, h, w] and offset [n, 18, h, w] expected");
    n_ = input.size(0), c_ = input.size(1), h_ = input.size(2), w_ = input.size(3);
    TORCH_CHECK(h_ * w_ < (int64_t(1) << 31), "deform sampler: pictures of at most 2^31 pixels (32-bit indices)");
    // NHWC views; free when the tensors are channels-last already. bf16 features
    // going into a bf16 matrix are read as they are; all else is sampled in fp32.
    const bool bf16_in = input.scalar_type() == torch::kBFloat16 && type == torch::kBFloat16;
    input_ = input.to(bf16_in ? torch::kBFloat16 : torch::kFloat).permute({0, 2, 3, 1}).contiguous();
    offset_ = offset.to(torch::kFloat).permute({0, 2, 3, 1}).contiguous();
    zeros_.assign(static_cast<size_t>(c_), 0.0f); // also c zero bf16 values
}

void DeformSampler::sample(int64_t begin, int64_t end, torch::Tensor &cols) const
{
    TORCH_CHECK(begin >= 0 && begin <= end && end <= rows(), "deform sampler: rows out of range");
    TORCH_CHECK(cols.is_contiguous() && cols.numel() == (end - begin) * w_ * columns() && cols.scalar_type() == type_,
                "deform sampler: contiguous [rows, w, 9c] of the sampler's type expected");
    const sampling::Geometry g{h_, w_, c_};
    const float *off = offset_.data_ptr<float>();
    const int64_t row_size = w_ * columns();
    // Nested in a caller's parallel_for this runs inline, on the caller's thread.
    at::parallel_for(begin, end, 1, [&](int64_t b, int64_t e) {
        const int64_t at = (b - begin) * row_size;
        if (type_ == torch::kFloat)
            sampling::sample_rows_fp32(g, input_.data_ptr<float>(), off, cols.data_ptr<float>() + at, zeros_.data(),
                                       b, e);
        else if (input_.scalar_type() == torch::kFloat)
            sampling::sample_rows_fp32_to_bf16(g, input_.data_ptr<float>(), off, sampling::bf16_bits(cols) + at,
                                               zeros_.data(), b, e);
        else
            sampling::sample_rows_bf16(g, sampling::bf16_bits(input_), off, sampling::bf16_bits(cols) + at,
                                       reinterpret_cast<const uint16_t *>(zeros_.data()), b, e);
    });
}

bool DeformSampler::sample_and_multiply(const torch::Tensor &weight, const torch::Tensor &bias,
                                        torch::Tensor &out) const
{
    if ((c_ != 32 && c_ != 64) || weight.sizes() != torch::IntArrayRef({c_, c_, 3, 3}) ||
        weight.scalar_type() != type_ || !bias.defined() || bias.sizes() != torch::IntArrayRef({c_}))
        return false;
    const bool bf16 = type_ == torch::kBFloat16;
#ifdef DSFN_BF16_TILES
    if (bf16 && !__builtin_cpu_supports("avx512bf16"))
        return false;
#else
    if (bf16)
        return false;
#endif
    // [co, c, 3, 3] -> [(tap, channel), co]: the tile's column order, output channels
    // innermost; for bf16 with rows paired, [(tap, channel) / 2, co, 2].
    auto wk = weight.permute({2, 3, 1, 0}).reshape({kDeformTaps * c_, c_});
    if (bf16)
        wk = wk.view({kDeformTaps * c_ / 2, 2, c_}).transpose(1, 2);
    wk = wk.contiguous();
    const auto b = bias.to(torch::kFloat).contiguous();
    const float *off = offset_.data_ptr<float>();
    out = torch::empty({n_, c_, h_, w_}, input_.options().dtype(type_).memory_format(at::MemoryFormat::ChannelsLast));
    const sampling::Geometry g{h_, w_, c_};
    at::parallel_for(0, rows(), 1, [&](int64_t begin, int64_t end) {
        if (!bf16) {
            sampling::sample_multiply_rows_fp32(g, input_.data_ptr<float>(), off, wk.data_ptr<float>(),
                                                b.data_ptr<float>(), out.data_ptr<float>(), zeros_.data(), begin,
                                                end);
            return;
        }
#ifdef DSFN_BF16_TILES
        const uint16_t *wk2 = sampling::bf16_bits(wk);
        uint16_t *dst = sampling::bf16_bits(out);
        if (input_.scalar_type() == torch::kFloat)
            sampling::sample_multiply_rows_bf16(g, input_.data_ptr<float>(), off, wk2, b.data_ptr<float>(), dst,
                                                zeros_.data(), begin, end);
        else
            sampling::sample_multiply_rows_bf16(g, sampling::bf16_bits(input_), off, wk2, b.data_ptr<float>(), dst,
                                                reinterpret_cast<const uint16_t *>(zeros_.data()), begin, end);
#endif
    });
    return true;
}

torch::Tensor deform_im2col(const torch::Tensor &input, const torch::Tensor &offset, c10::ScalarType type)
{
    const DeformSampler sampler(input, offset, type);
    const int64_t n = input.size(0), h = input.size(2), w = input.size(3);
    auto cols = torch::empty({n, h, w, sampler.columns()}, input.options().dtype(type));
    sampler.sample(0, sampler.rows(), cols);
    return cols.permute({0, 3, 1, 2}); // [n, 9c, h, w], channels-last in memory
}

} // namespace dsfn
