#include "engine/plane_view.h"

#include <cstdlib>

namespace dsfn {

PlaneView plane_view(uint8_t *data, int linesize, int64_t h, int64_t w, int64_t channels, torch::ScalarType type,
                     const torch::Device &device)
{
    const bool bottom_up = linesize < 0;
    const int64_t sample = static_cast<int64_t>(c10::elementSize(type));
    uint8_t *lowest = bottom_up ? data + (h - 1) * static_cast<int64_t>(linesize) : data;
    return {torch::from_blob(lowest, {h, w, channels}, {std::abs(static_cast<int64_t>(linesize)) / sample, channels, 1},
                             torch::TensorOptions().dtype(type).device(device)),
            bottom_up};
}

torch::Tensor unsigned_16bit(const torch::Tensor &samples)
{
    return samples.to(torch::kInt).bitwise_and_(0xFFFF);
}

} // namespace dsfn
