#include "deform_sample.h"

#include <ATen/Parallel.h>

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

// Rows [begin, end) of the batch's (image, y) rows. input [n, h, w, c] (fp32 or
// bf16 bits) and offset [n, h, w, 18] fp32; cols [end - begin, w, 9, c] receives
// those rows. zeros: c zero values of the input's type.
template <typename In, typename Out>
inline __attribute__((always_inline)) void sample_rows(const Geometry &g, const In *input, const float *offset,
                                                      Out *cols, const In *zeros, int64_t begin, int64_t end)
{
    const int64_t h = g.h, w = g.w, c = g.c;
    for (int64_t row = begin; row < end; row++) {
        const int64_t y = row % h;
        const In *image = input + (row - y) * w * c;
        for (int64_t x = 0; x < w; x++) {
            const float *off = offset + (row * w + x) * 2 * kTaps;
            Out *out = cols + ((row - begin) * w + x) * kTaps * c;
            for (int k = 0; k < kTaps; k++, out += c) {
                const float sy = static_cast<float>(y + k / 3 - 1) + off[2 * k];
                const float sx = static_cast<float>(x + k % 3 - 1) + off[2 * k + 1];
                // Also false for NaN: no corner inside the picture, the sample is zero.
                if (!(sy > -1.0f && sy < static_cast<float>(h) && sx > -1.0f && sx < static_cast<float>(w))) {
                    std::memset(out, 0, c * sizeof(Out));
                    continue;
                }
                const float fy = std::floor(sy), fx = std::floor(sx);
                const int64_t y0 = static_cast<int64_t>(fy), x0 = static_cast<int64_t>(fx);
                const float ly = sy - fy, lx = sx - fx;
                const bool top = y0 >= 0, bottom = y0 + 1 < h, left = x0 >= 0, right = x0 + 1 < w;
                // Corners outside the picture read a row of zeros (zero padding).
                const In *__restrict p00 = top && left ? image + (y0 * w + x0) * c : zeros;
                const In *__restrict p01 = top && right ? image + (y0 * w + x0 + 1) * c : zeros;
                const In *__restrict p10 = bottom && left ? image + ((y0 + 1) * w + x0) * c : zeros;
                const In *__restrict p11 = bottom && right ? image + ((y0 + 1) * w + x0 + 1) * c : zeros;
                const float w00 = (1 - ly) * (1 - lx), w01 = (1 - ly) * lx, w10 = ly * (1 - lx), w11 = ly * lx;
                Out *__restrict dst = out;
                for (int64_t ch = 0; ch < c; ch++)
                    dst[ch] = store_as(w00 * load(p00[ch]) + w01 * load(p01[ch]) + w10 * load(p10[ch]) +
                                           w11 * load(p11[ch]),
                                       dst);
            }
        }
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

torch::Tensor deform_im2col(const torch::Tensor &input, const torch::Tensor &offset, c10::ScalarType type)
{
    const DeformSampler sampler(input, offset, type);
    const int64_t n = input.size(0), h = input.size(2), w = input.size(3);
    auto cols = torch::empty({n, h, w, sampler.columns()}, input.options().dtype(type));
    sampler.sample(0, sampler.rows(), cols);
    return cols.permute({0, 3, 1, 2}); // [n, 9c, h, w], channels-last in memory
}

} // namespace dsfn
