#include "net/mirror_edges.h"

namespace dsfn {

namespace {

// Source index of each of the size + 2 * pixels positions: half-sample symmetric
// with period 2 * size, so pictures narrower than `pixels` are mirrored again.
torch::Tensor mirrored_indices(int64_t size, int64_t pixels, const torch::Device &device)
{
    auto i = torch::arange(-pixels, size + pixels, torch::TensorOptions().dtype(torch::kLong).device(device));
    auto j = torch::remainder(i, 2 * size);
    return torch::where(j >= size, 2 * size - 1 - j, j);
}

} // namespace

torch::Tensor mirror_edges(const torch::Tensor &x, int64_t pixels)
{
    if (pixels <= 0)
        return x;
    const auto rows = mirrored_indices(x.size(2), pixels, x.device());
    const auto cols = mirrored_indices(x.size(3), pixels, x.device());
    return x.index_select(2, rows).index_select(3, cols);
}

} // namespace dsfn
