// Maps concatenated along their channels in one pass (concat_channels.h).
#include "kernels/concat_channels.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <stdexcept>

#include "kernels/sample_taps.h"

namespace dsfn {

namespace {

// Pixels per task: enough to amortise a thread's start over a few channels.
constexpr int64_t kGrainValues = 1 << 15;

// Pixels [begin, end) of a channels-last part of c channels into the whole,
// whose pixels are stride values apart.
template <typename In, typename Out>
inline __attribute__((always_inline)) void copy_pixels(const In *from, int64_t c, Out *to, int64_t stride,
                                                       int64_t begin, int64_t end)
{
    for (int64_t p = begin; p < end; p++) {
        const In *__restrict f = from + p * c;
        Out *__restrict t = to + p * stride;
        for (int64_t i = 0; i < c; i++)
            t[i] = sampling::store_as(sampling::load(f[i]), t);
    }
}

DSFN_VECTOR_CLONES void copy_float_to_bf16(const float *from, int64_t c, uint16_t *to, int64_t stride, int64_t begin,
                                           int64_t end)
{
    copy_pixels(from, c, to, stride, begin, end);
}

DSFN_VECTOR_CLONES void copy_bf16_to_bf16(const uint16_t *from, int64_t c, uint16_t *to, int64_t stride, int64_t begin,
                                          int64_t end)
{
    copy_pixels(from, c, to, stride, begin, end);
}

DSFN_VECTOR_CLONES void copy_float_to_float(const float *from, int64_t c, float *to, int64_t stride, int64_t begin,
                                            int64_t end)
{
    copy_pixels(from, c, to, stride, begin, end);
}

} // namespace

torch::Tensor concat_channels(const std::vector<torch::Tensor> &parts, torch::ScalarType type)
{
    // A range of its own in LibTorch's profiler (dsfn-tool profile); nothing when it is off.
    RECORD_FUNCTION("dsfn::concat_channels", std::vector<c10::IValue>());
    if (type != torch::kFloat && type != torch::kBFloat16)
        throw std::invalid_argument("concat_channels: float32 or bfloat16 maps only");
    if (parts.empty())
        throw std::invalid_argument("concat_channels: nothing to concatenate");
    int64_t channels = 0;
    for (const auto &part : parts) {
        if (part.dim() != 4 || !part.is_cpu() || part.size(0) != parts[0].size(0) ||
            part.sizes().slice(2) != parts[0].sizes().slice(2))
            throw std::invalid_argument(
                "concat_channels: parts [n, c, h, w] on the CPU that differ only in c expected");
        channels += part.size(1);
    }
    const int64_t n = parts[0].size(0), h = parts[0].size(2), w = parts[0].size(3);
    auto whole = torch::empty({n, channels, h, w}, torch::dtype(type).memory_format(at::MemoryFormat::ChannelsLast));
    const int64_t pixels = n * h * w;
    int64_t at = 0; // the part's first channel in the whole
    for (const auto &part : parts) {
        const int64_t c = part.size(1);
        // bf16 parts into bf16 are copied as they are; everything else is read as float32.
        const bool same = type == torch::kBFloat16 && part.scalar_type() == torch::kBFloat16;
        const auto src = part.to(same ? torch::kBFloat16 : torch::kFloat).contiguous(at::MemoryFormat::ChannelsLast);
        const int64_t grain = std::max<int64_t>(1, kGrainValues / std::max<int64_t>(c, 1));
        at::parallel_for(0, pixels, grain, [&](int64_t b, int64_t e) {
            if (type == torch::kFloat)
                copy_float_to_float(src.data_ptr<float>(), c, whole.data_ptr<float>() + at, channels, b, e);
            else if (same)
                copy_bf16_to_bf16(sampling::bf16_bits(src), c, sampling::bf16_bits(whole) + at, channels, b, e);
            else
                copy_float_to_bf16(src.data_ptr<float>(), c, sampling::bf16_bits(whole) + at, channels, b, e);
        });
        at += c;
    }
    return whole;
}

} // namespace dsfn
