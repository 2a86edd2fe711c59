// The pieces the deformable samplers share (deform_sample.cpp: im2col rows;
// deform_fused.cpp: tiles sampled and multiplied in L1; deform_u8.cpp: the same
// in 8 bits): bf16 bits and 8-bit codes, the four
// bilinear corners of a row's taps, the blend of one tap's channels, and the
// row loop of the samplers that multiply tiles in L1. Inline
// templates, so each kernel file compiles them with its own vector flags.
// Internal to model/kernels/.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/deform_sample.h"

// The channel loops are what matters: built with -O3 (mk/build.mk) and, with GCC on
// x86-64, cloned for AVX-512 and AVX2 and picked at load time, since the package
// build targets baseline x86-64.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DSFN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define DSFN_VECTOR_CLONES
#endif

// bf16 tiles use AMX or AVX512-BF16 pair products where the CPU has them (checked
// at run time); GCC on x86-64 only.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define DSFN_BF16_TILES 1
#define DSFN_TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define DSFN_TARGET_AMX __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))
#endif

namespace dsfn::sampling {

constexpr int kTaps = kDeformTaps;

struct Geometry {
    int64_t h, w, c;
    // Floats from one pixel's 18 offsets to the next's (offset_rows in deform_sample.h).
    int64_t offset_stride = 2 * kTaps;
};

inline float store_as(float v, float *)
{
    return v;
}

// Round to nearest even, as c10::BFloat16 does, but branch-free so the loop
// vectorises (a NaN with only low mantissa bits would become infinity; the
// network's features are finite).
inline uint16_t store_as(float v, uint16_t *)
{
    uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

inline float load(float v)
{
    return v;
}

// bfloat16 is the top half of a float.
inline float load(uint16_t v)
{
    const uint32_t u = static_cast<uint32_t>(v) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// 8-bit codes (the int8 warp, deform_u8.h) are blended as the numbers they are.
inline float load(uint8_t v)
{
    return v;
}

// A blend of 8-bit codes back to the nearest code, ties to even: adding 2^23 leaves
// the rounded value in the low mantissa bits. A blend of codes lies between them;
// the clamp only guards against the corner weights' own rounding.
inline uint8_t store_as(float v, uint8_t *)
{
    v = v > 0.0f ? (v < 255.0f ? v : 255.0f) : 0.0f;
    const float shifted = v + 8388608.0f;
    uint32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    return static_cast<uint8_t>(bits);
}

// The four bilinear corners of every tap of one picture row: pixel indices into
// the image (-1: outside the picture, reads zeros) and weights, [4][w * 9].
// Computed for the whole row in one branch-free pass that the compiler
// vectorises; per tap and channel this leaves only the blend below.
struct RowTaps {
    explicit RowTaps(int64_t w) : taps(w * kTaps), x(taps), dy(taps), index(4 * taps), weight(4 * taps)
    {
        for (int64_t i = 0; i < taps; i++) {
            x[i] = static_cast<float>(i / kTaps + i % kTaps % 3 - 1);
            dy[i] = static_cast<float>(i % kTaps / 3 - 1);
        }
    }

    // offset: the row's offsets (y, x shift of each tap), 18 per pixel, pixels
    // g.offset_stride floats apart.
    __attribute__((always_inline)) void fill(const Geometry &g, int64_t y, const float *__restrict offset)
    {
        if (g.offset_stride != 2 * kTaps) { // packed first, so the loop below reads them in order
            packed.resize(static_cast<size_t>(2 * taps));
            for (int64_t x = 0; x < g.w; x++)
                std::memcpy(packed.data() + x * 2 * kTaps, offset + x * g.offset_stride, 2 * kTaps * sizeof(float));
            offset = packed.data();
        }
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
    std::vector<float> packed; // a row's offsets, where they are not packed in memory
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
        dst[ch] = store_as(w00 * load(p00[ch]) + w01 * load(p01[ch]) + w10 * load(p10[ch]) + w11 * load(p11[ch]), dst);
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
    taps.fill(g, y, offset + row * g.w * g.offset_stride);
    return input + (row - y) * g.w * g.c;
}

// Rows [begin, end) of the batch into out [rows, w, c] (channels-last), a tile of
// Product::pixels pixels at a time: product.fill(taps, image, zeros, first tap,
// taps, tile) samples the tile's taps into a small matrix of out's type that
// stays in L1, product(tile, out, pixels in the tile) multiplies it by the
// weights. C > 0 fixes the width at compile time; C = 0 reads it from g.
template <int C, typename In, typename T, typename Product>
inline __attribute__((always_inline)) void sample_multiply_rows(const Geometry &g, const In *input, const float *offset,
                                                                const In *zeros, const Product &product, T *out,
                                                                int64_t begin, int64_t end)
{
    constexpr int P = Product::pixels;
    const int64_t w = g.w, c = C > 0 ? C : g.c;
    RowTaps taps(w);
    std::vector<T> tile(P * kTaps * c, T(0)); // zeros past a row's end: never stored, but defined
    for (int64_t row = begin; row < end; row++) {
        const In *image = start_row(taps, g, input, offset, row);
        for (int64_t x0 = 0; x0 < w; x0 += P) {
            const int np = static_cast<int>(std::min<int64_t>(P, w - x0));
            product.fill(taps, image, zeros, x0 * kTaps, np * kTaps, tile.data()); // [np][9][c]
            product(tile.data(), out + (row * w + x0) * c, np);
        }
    }
}

// The raw bits of a bfloat16 tensor, for the loops above.
inline uint16_t *bf16_bits(const torch::Tensor &t)
{
    return reinterpret_cast<uint16_t *>(t.data_ptr<at::BFloat16>());
}

} // namespace dsfn::sampling
