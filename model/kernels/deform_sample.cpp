// The deformable sampler (deform_sample.h): im2col rows, and the sampler itself.
#include "kernels/deform_sample.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/sample_taps.h"

namespace dsfn {

namespace sampling {

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

DSFN_VECTOR_CLONES void sample_rows_bf16(const Geometry &g, const uint16_t *input, const float *offset, uint16_t *cols,
                                         const uint16_t *zeros, int64_t begin, int64_t end)
{
    sample_rows(g, input, offset, cols, zeros, begin, end);
}

} // namespace sampling

OffsetRows offset_rows(const torch::Tensor &offset)
{
    TORCH_CHECK(offset.dim() == 4 && offset.size(1) == 2 * sampling::kTaps,
                "deform sampler: offset [n, 18, h, w] expected");
    const int64_t n = offset.size(0), h = offset.size(2), w = offset.size(3);
    const auto nhwc = offset.permute({0, 2, 3, 1});
    const int64_t stride = nhwc.stride(2);
    if (offset.scalar_type() == torch::kFloat && nhwc.stride(3) == 1 && stride >= 2 * sampling::kTaps &&
        (h == 1 || nhwc.stride(1) == w * stride) && (n == 1 || nhwc.stride(0) == h * w * stride))
        return {nhwc, stride};
    return {offset.to(torch::kFloat).permute({0, 2, 3, 1}).contiguous(), 2 * sampling::kTaps};
}

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
    offset_ = offset_rows(offset);
    zeros_.assign(static_cast<size_t>(c_), 0.0f); // also c zero bf16 values
}

void DeformSampler::sample(int64_t begin, int64_t end, torch::Tensor &cols) const
{
    TORCH_CHECK(begin >= 0 && begin <= end && end <= rows(), "deform sampler: rows out of range");
    TORCH_CHECK(cols.is_contiguous() && cols.numel() == (end - begin) * w_ * columns() && cols.scalar_type() == type_,
                "deform sampler: contiguous [rows, w, 9c] of the sampler's type expected");
    const sampling::Geometry g{h_, w_, c_, offset_.stride};
    const float *off = offset_.values.data_ptr<float>();
    const int64_t row_size = w_ * columns();
    // Nested in a caller's parallel_for this runs inline, on the caller's thread.
    at::parallel_for(begin, end, 1, [&](int64_t b, int64_t e) {
        const int64_t at = (b - begin) * row_size;
        if (type_ == torch::kFloat)
            sampling::sample_rows_fp32(g, input_.data_ptr<float>(), off, cols.data_ptr<float>() + at, zeros_.data(), b,
                                       e);
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
