#include "tools/widen.h"

#include <stdexcept>
#include <string>

namespace dsfn {

namespace {

// Index j -> j mod narrow, for a dimension that grows from narrow to wide.
torch::Tensor copy_map(int64_t narrow, int64_t wide)
{
    return torch::arange(wide, torch::kLong).remainder(narrow);
}

// Random shares along dimension 1 that sum to one over the copies of each
// narrow input channel (wide = copies of narrow channels by copy_map).
torch::Tensor split_shares(const torch::IntArrayRef wide_sizes, int64_t narrow)
{
    const auto map = copy_map(narrow, wide_sizes[1]);
    // Shares within 1:3 of each other: every copy keeps a real part of the signal.
    auto draw = torch::rand(wide_sizes) + 0.5;
    auto narrow_sizes = wide_sizes.vec();
    narrow_sizes[1] = narrow;
    auto totals = torch::zeros(narrow_sizes).index_add_(1, map, draw);
    return draw / totals.index_select(1, map);
}

torch::Tensor widen_parameter(const std::string &name, const torch::Tensor &narrow, const torch::Tensor &wide)
{
    if (narrow.dim() != wide.dim())
        throw std::logic_error(name + ": ranks differ");
    auto out = narrow;
    // Dimension 0: output channels (weights and biases) are copied.
    if (narrow.size(0) != wide.size(0))
        out = out.index_select(0, copy_map(narrow.size(0), wide.size(0)));
    // Dimension 1 of a convolution: input channels, split between their copies.
    if (narrow.dim() == 4 && narrow.size(1) != wide.size(1)) {
        out = out.index_select(1, copy_map(narrow.size(1), wide.size(1)));
        out = out * split_shares(out.sizes(), narrow.size(1));
    }
    if (out.sizes() != wide.sizes())
        throw std::logic_error(name + ": cannot map its shape onto the wider network's");
    return out;
}

} // namespace

Network widen(const NetworkImpl &narrow, int64_t width, uint64_t seed)
{
    auto arch = narrow.architecture();
    if (width < arch.width)
        throw std::invalid_argument("cannot widen width " + std::to_string(arch.width) + " to " +
                                    std::to_string(width) + ": the new width must not be smaller");
    arch.width = width;
    Network wide(arch);
    torch::NoGradGuard no_grad;
    torch::manual_seed(seed);
    const auto from = narrow.named_parameters();
    auto to = wide->named_parameters();
    for (const auto &p : from) {
        auto *target = to.find(p.key());
        if (!target)
            throw std::logic_error(p.key() + ": missing from the wider network");
        target->copy_(widen_parameter(p.key(), p.value().to(torch::kFloat), *target));
    }
    return wide;
}

} // namespace dsfn
