#include "kernels/map_to_picture.h"

#include <cstring>
#include <limits>
#include <vector>

namespace dsfn {

namespace {

// round(max * clamp(v, 0, 1)) for n values, in a loop GCC vectorises: adding
// 2^23 rounds to an integer, ties to even as torch::round, and leaves it in the
// float's low mantissa bits (max < 2^23). The comparisons send NaN to 0.
template <typename Sample>
void to_samples(const float *v, Sample *out, int64_t n)
{
    constexpr float max = std::numeric_limits<Sample>::max();
    for (int64_t k = 0; k < n; k++) {
        const float x = v[k] > 0.0f ? (v[k] < 1.0f ? v[k] : 1.0f) : 0.0f;
        const float shifted = x * max + 8388608.0f;
        uint32_t bits;
        std::memcpy(&bits, &shifted, sizeof bits);
        out[k] = static_cast<Sample>(bits);
    }
}

// One output row: pixel x * R + j takes sample x * channels + j of the low-res
// row's samples, `from` already pointing at its colour and sub-row.
template <int64_t R, int64_t Step, typename Sample>
void shuffle_row(const Sample *from, int64_t channels, int64_t w, Sample *row)
{
    for (int64_t x = 0; x < w; x++)
        for (int64_t j = 0; j < R; j++)
            row[(x * R + j) * Step] = from[x * channels + j];
}

template <typename Sample>
void shuffle_row_any(const Sample *from, int64_t channels, int64_t w, int64_t r, int64_t step, Sample *row)
{
    if (r == 4 && step == 3)
        return shuffle_row<4, 3>(from, channels, w, row);
    if (r == 4 && step == 1)
        return shuffle_row<4, 1>(from, channels, w, row);
    for (int64_t x = 0; x < w; x++)
        for (int64_t j = 0; j < r; j++)
            row[(x * r + j) * step] = from[x * channels + j];
}

template <typename Sample>
void map_to_rgb(const torch::Tensor &map, int64_t scale, const RgbPlanes<Sample> &dst)
{
    TORCH_CHECK(map.device().is_cpu() && map.scalar_type() == torch::kFloat && map.dim() == 4 && map.size(0) == 1 &&
                    scale > 0 && map.size(1) == 3 * scale * scale,
                "map_to_rgb: expected a [1, 3 * scale^2, h, w] float map on the CPU");
    // Channels-last: the 3 * scale^2 values of a low-res pixel lie side by side,
    // and a row's pixels too; a crop of such a map (the engine's mirrored edges
    // cut off) is read where it lies, rows apart by its row stride.
    const bool rows_of_pixels = map.stride(1) == 1 && map.stride(3) == map.size(1);
    const auto m = rows_of_pixels ? map : map.contiguous(at::MemoryFormat::ChannelsLast);
    const int64_t channels = m.size(1), h = m.size(2), w = m.size(3), r = scale, row_stride = m.stride(2);
    const float *src = m.data_ptr<float>();
    at::parallel_for(0, h, 1, [&](int64_t y0, int64_t y1) {
        std::vector<Sample> samples(static_cast<size_t>(w * channels));
        for (int64_t y = y0; y < y1; y++) {
            to_samples(src + y * row_stride, samples.data(), w * channels);
            for (int64_t i = 0; i < r; i++)
                for (int k = 0; k < 3; k++) {
                    auto *row = reinterpret_cast<Sample *>(reinterpret_cast<uint8_t *>(dst.data[k]) +
                                                           (y * r + i) * dst.linesize[k]);
                    shuffle_row_any(samples.data() + k * r * r + i * r, channels, w, r, dst.pixel_step, row);
                }
        }
    });
}

} // namespace

void map_to_rgb8(const torch::Tensor &map, int64_t scale, const Rgb8Planes &dst)
{
    map_to_rgb(map, scale, dst);
}

void map_to_rgb16(const torch::Tensor &map, int64_t scale, const Rgb16Planes &dst)
{
    map_to_rgb(map, scale, dst);
}

torch::Tensor map_to_rgb8_reference(const torch::Tensor &map, int64_t scale)
{
    return torch::pixel_shuffle(map, scale)[0].clamp(0.0f, 1.0f).mul_(255.0f).round_().to(torch::kUInt8);
}

torch::Tensor map_to_rgb16_reference(const torch::Tensor &map, int64_t scale)
{
    return torch::pixel_shuffle(map, scale)[0].clamp(0.0f, 1.0f).mul_(65535.0f).round_().to(torch::kInt);
}

} // namespace dsfn
