// The deformable convolution with sampling and product fused (DeformSampler::
// sample_and_multiply, deform_sample.h).
#include "kernels/deform_sample.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#if defined(__linux__) && defined(__x86_64__)
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "kernels/sample_taps.h"

namespace dsfn {

namespace sampling {

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
    // The tile's taps, blended as sample_taps.h does.
    template <typename In, typename T>
    inline __attribute__((always_inline)) void fill(const RowTaps &taps, const In *image, const In *zeros,
                                                    int64_t first, int64_t count, T *tile) const
    {
        blend_taps<C>(taps, image, zeros, first, count, tile, C);
    }
    inline __attribute__((always_inline)) void operator()(const float *tile, float *out, int np) const
    {
        tile_product<kTaps * C, C, pixels>(tile, wk, bias, out, np);
    }
};

#ifdef DSFN_BF16_TILES
// 16 values as floats: bf16 is the top half of a float.
DSFN_TARGET_BF16 inline __m512 load16(const uint16_t *p)
{
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p))), 16));
}

DSFN_TARGET_BF16 inline __m512 load16(const float *p)
{
    return _mm512_loadu_ps(p);
}

// Taps [first, first + count) of a row into a bf16 tile, as blend_taps (sample_taps.h)
// computes them, with the products and sums in the order GCC contracts its expression
// into (the pictures are bit-identical), but rounded to bf16 by the CPU's own
// conversion (VCVTNEPS2BF16, nearest even as store_as) rather than in integer steps:
// the tile's fill is most of the bf16 warp's time.
template <int C, typename In>
DSFN_TARGET_BF16 inline void blend_taps_bf16(const RowTaps &taps, const In *image, const In *zeros, int64_t first,
                                             int64_t count, uint16_t *dst)
{
    const int64_t n = taps.taps;
    const int32_t *i00 = taps.index.data(), *i01 = i00 + n, *i10 = i01 + n, *i11 = i10 + n;
    const float *w00 = taps.weight.data(), *w01 = w00 + n, *w10 = w01 + n, *w11 = w10 + n;
    for (int64_t i = first; i < first + count; i++, dst += C) {
        const In *p00 = i00[i] >= 0 ? image + i00[i] * C : zeros;
        const In *p01 = i01[i] >= 0 ? image + i01[i] * C : zeros;
        const In *p10 = i10[i] >= 0 ? image + i10[i] * C : zeros;
        const In *p11 = i11[i] >= 0 ? image + i11[i] * C : zeros;
        const __m512 a = _mm512_set1_ps(w00[i]), b = _mm512_set1_ps(w01[i]), c = _mm512_set1_ps(w10[i]),
                     d = _mm512_set1_ps(w11[i]);
#pragma GCC unroll 4
        for (int v = 0; v < C; v += 16) {
            __m512 sum = _mm512_mul_ps(b, load16(p01 + v));
            sum = _mm512_fmadd_ps(a, load16(p00 + v), sum);
            sum = _mm512_fmadd_ps(c, load16(p10 + v), sum);
            sum = _mm512_fmadd_ps(d, load16(p11 + v), sum);
            _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + v), (__m256i)_mm512_cvtneps_pbh(sum));
        }
    }
}

// What both bf16 products share: the weights wk2 [9C / 2][C][2] (rows paired, the
// layout AVX512-BF16's pair products and TDPBF16PS read), the bias, and the tile's fill.
template <int C>
struct Bf16Tile {
    const uint16_t *wk2;
    const float *bias;
    // The tile's taps, blended as sample_taps.h does.
    template <typename In>
    DSFN_TARGET_BF16 void fill(const RowTaps &taps, const In *image, const In *zeros, int64_t first, int64_t count,
                               uint16_t *tile) const
    {
        blend_taps_bf16<C>(taps, image, zeros, first, count, tile);
    }
};

// bf16 tiles times the bf16 weights, accumulated in fp32 by AVX512-BF16's pair
// products and rounded to bf16 on the way out, as oneDNN's bf16 convolution does.
template <int C>
struct Bf16Product : Bf16Tile<C> {
    using Bf16Tile<C>::wk2;
    using Bf16Tile<C>::bias;
    static constexpr int pixels = tile_pixels<C>();
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

// The same product on AMX tiles, 16 pixels at a time: TDPBF16PS multiplies a 16 x 32
// block of the tile by a 32 x 16 block of the weights (8,192 products) per
// instruction, where an AVX512-BF16 pair product above makes 32.
// Tiles: 0-3 the sums of 16 output channels each, 4 the tile's columns, 5 and 6 the
// weights (alternating, so one loads while the other multiplies).
template <int C>
struct AmxBf16Product : Bf16Tile<C> {
    using Bf16Tile<C>::wk2;
    using Bf16Tile<C>::bias;
    static constexpr int pixels = 16;
    DSFN_TARGET_AMX void operator()(const uint16_t *__restrict tile, uint16_t *__restrict out, int np) const
    {
        constexpr int K = kTaps * C, V = C / 16;
        static_assert(K % 32 == 0 && (V == 2 || V == 4), "32 or 64 channels");
        _tile_zero(0);
        _tile_zero(1);
        if constexpr (V == 4) {
            _tile_zero(2);
            _tile_zero(3);
        }
        for (int k = 0; k < K; k += 32) {
            // Weight rows k/2 .. k/2 + 15 (32 values of k paired), 16 output channels from v * 16.
            const uint16_t *w = wk2 + k * C;
            _tile_loadd(4, tile + k, K * 2);
            _tile_loadd(5, w, C * 4);
            _tile_loadd(6, w + 32, C * 4);
            _tile_dpbf16ps(0, 4, 5);
            _tile_dpbf16ps(1, 4, 6);
            if constexpr (V == 4) {
                _tile_loadd(5, w + 64, C * 4);
                _tile_loadd(6, w + 96, C * 4);
                _tile_dpbf16ps(2, 4, 5);
                _tile_dpbf16ps(3, 4, 6);
            }
        }
        alignas(64) float sums[pixels * C];
        _tile_stored(0, sums, C * 4);
        _tile_stored(1, sums + 16, C * 4);
        if constexpr (V == 4) {
            _tile_stored(2, sums + 32, C * 4);
            _tile_stored(3, sums + 48, C * 4);
        }
        for (int p = 0; p < np; p++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) {
                const __m512 s = _mm512_add_ps(_mm512_load_ps(sums + p * C + 16 * v), _mm512_loadu_ps(bias + 16 * v));
                _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + p * C + 16 * v), (__m256i)_mm512_cvtneps_pbh(s));
            }
    }
};

// The tile shapes above, loaded on the calling thread (AMX state is per thread):
// 16 rows of 64 bytes for every tile used.
struct AmxTiles {
    DSFN_TARGET_AMX AmxTiles()
    {
        struct {
            uint8_t palette, start_row, reserved[14];
            uint16_t colsb[16];
            uint8_t rows[16];
        } config = {};
        config.palette = 1;
        for (int t = 0; t < 7; t++) {
            config.colsb[t] = 64;
            config.rows[t] = 16;
        }
        _tile_loadconfig(&config);
    }
    DSFN_TARGET_AMX ~AmxTiles() { _tile_release(); }
    AmxTiles(const AmxTiles &) = delete;
    AmxTiles &operator=(const AmxTiles &) = delete;
};
#endif

DSFN_VECTOR_CLONES void sample_multiply_rows_fp32(const Geometry &g, const float *input, const float *offset,
                                                  const float *wk, const float *bias, float *out, const float *zeros,
                                                  int64_t begin, int64_t end)
{
    if (g.c == 32)
        sample_multiply_rows<32>(g, input, offset, zeros, Fp32Product<32>{wk, bias}, out, begin, end);
    else
        sample_multiply_rows<64>(g, input, offset, zeros, Fp32Product<64>{wk, bias}, out, begin, end);
}

#ifdef DSFN_BF16_TILES
// In: the features' type, bf16, or fp32 for fp32 features into a bf16 model.
template <typename In>
DSFN_TARGET_BF16 void sample_multiply_rows_bf16(const Geometry &g, const In *input, const float *offset,
                                                const uint16_t *wk2, const float *bias, uint16_t *out, const In *zeros,
                                                int64_t begin, int64_t end)
{
    if (g.c == 32)
        sample_multiply_rows<32>(g, input, offset, zeros, Bf16Product<32>{{wk2, bias}}, out, begin, end);
    else
        sample_multiply_rows<64>(g, input, offset, zeros, Bf16Product<64>{{wk2, bias}}, out, begin, end);
}

template <typename In>
DSFN_TARGET_AMX void sample_multiply_rows_amx(const Geometry &g, const In *input, const float *offset,
                                              const uint16_t *wk2, const float *bias, uint16_t *out, const In *zeros,
                                              int64_t begin, int64_t end)
{
    const AmxTiles tiles;
    if (g.c == 32)
        sample_multiply_rows<32>(g, input, offset, zeros, AmxBf16Product<32>{{wk2, bias}}, out, begin, end);
    else
        sample_multiply_rows<64>(g, input, offset, zeros, AmxBf16Product<64>{{wk2, bias}}, out, begin, end);
}
#endif

} // namespace sampling

namespace {

std::atomic<bool> amx_allowed{true};

// The CPU has AMX-BF16 and Linux lets this process use the tiles' 8 KB of state:
// a permission a process asks for once (oneDNN asks for the same one).
bool amx_bf16_available()
{
#if defined(DSFN_BF16_TILES) && defined(__linux__) && defined(ARCH_REQ_XCOMP_PERM)
    constexpr int kXtileData = 18; // XFEATURE_XTILEDATA
    static const bool available = __builtin_cpu_supports("amx-bf16") && __builtin_cpu_supports("avx512bf16") &&
                                  syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, kXtileData) == 0;
    return available;
#else
    return false;
#endif
}

} // namespace

void allow_amx_tiles(bool allow)
{
    amx_allowed = allow;
}

bool amx_tiles_in_use()
{
    return amx_allowed && amx_bf16_available();
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
    const float *off = offset_.values.data_ptr<float>();
    if (!out.defined())
        out =
            torch::empty({n_, c_, h_, w_}, input_.options().dtype(type_).memory_format(at::MemoryFormat::ChannelsLast));
    TORCH_CHECK(out.scalar_type() == type_ && out.sizes() == torch::IntArrayRef({n_, c_, h_, w_}) &&
                    out.is_contiguous(at::MemoryFormat::ChannelsLast),
                "deform sampler: the output's place is not a channels-last [n, c, h, w] of the sampler's type");
    const sampling::Geometry g{h_, w_, c_, offset_.stride};
    const bool amx = bf16 && amx_tiles_in_use();
    at::parallel_for(0, rows(), 1, [&](int64_t begin, int64_t end) {
        if (!bf16) {
            sampling::sample_multiply_rows_fp32(g, input_.data_ptr<float>(), off, wk.data_ptr<float>(),
                                                b.data_ptr<float>(), out.data_ptr<float>(), zeros_.data(), begin, end);
            return;
        }
#ifdef DSFN_BF16_TILES
        const uint16_t *wk2 = sampling::bf16_bits(wk);
        uint16_t *dst = sampling::bf16_bits(out);
        if (amx && input_.scalar_type() == torch::kFloat)
            sampling::sample_multiply_rows_amx(g, input_.data_ptr<float>(), off, wk2, b.data_ptr<float>(), dst,
                                               zeros_.data(), begin, end);
        else if (amx)
            sampling::sample_multiply_rows_amx(g, sampling::bf16_bits(input_), off, wk2, b.data_ptr<float>(), dst,
                                               reinterpret_cast<const uint16_t *>(zeros_.data()), begin, end);
        else if (input_.scalar_type() == torch::kFloat)
            sampling::sample_multiply_rows_bf16(g, input_.data_ptr<float>(), off, wk2, b.data_ptr<float>(), dst,
                                                zeros_.data(), begin, end);
        else
            sampling::sample_multiply_rows_bf16(g, sampling::bf16_bits(input_), off, wk2, b.data_ptr<float>(), dst,
                                                reinterpret_cast<const uint16_t *>(zeros_.data()), begin, end);
#endif
    });
    return true;
}

} // namespace dsfn
