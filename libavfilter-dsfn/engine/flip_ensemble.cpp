#include "engine/flip_ensemble.h"

#include <utility>

namespace dsfn {
namespace {

// Flips of the copies, as dimensions of [N, C, H, W]: none, mirrored, upside
// down, both. Copies 0 and 1, and 2 and 3, are mirror images of each other.
// (Copies backwards in time, which the network also saw in training, were
// tried: +0.001 to +0.005 dB for twice the passes; eval/REPORT.md, 2026-12-01.)
const std::vector<int64_t> kFlips[] = {{}, {3}, {2}, {2, 3}};

torch::Tensor channels_last(const torch::Tensor &x)
{
    return x.contiguous(at::MemoryFormat::ChannelsLast);
}

// A packed map flips as the picture it holds: its r x r blocks are flipped
// with it. Seen as [N, C, r, r, H, W], that is one flip of a sub-pixel axis
// and its picture axis together (one copy; unpacking, flipping and packing
// again took three).
torch::Tensor flip(const torch::Tensor &x, const std::vector<int64_t> &dims, bool packed, int64_t scale)
{
    if (dims.empty())
        return channels_last(x);
    if (!packed)
        return channels_last(x.flip(dims));
    const int64_t n = x.size(0), c = x.size(1) / (scale * scale), h = x.size(2), w = x.size(3);
    std::vector<int64_t> blocks_too;
    for (int64_t d : dims) // picture axis 2 (rows) or 3 (columns) of [N, C, H, W]
        blocks_too.insert(blocks_too.end(), {d, d + 2});
    return channels_last(x.view({n, c, scale, scale, h, w}).flip(blocks_too).view({n, c * scale * scale, h, w}));
}

} // namespace

bool valid_flip_copies(int copies)
{
    return copies == 1 || copies == 2 || copies == 4;
}

Maps3 flip_ensemble(const std::vector<torch::Tensor> &inputs, bool packed_inputs, int copies, int64_t scale,
                    const Pass &pass)
{
    if (copies == 1)
        return pass(inputs);
    // Pairwise sums, merged as soon as both halves are there (at most log2(copies)
    // + 1 kept): a flipped input only swaps the members of pairs, or the pairs,
    // and float addition is commutative, so the mean is exactly equivariant to
    // the flips it averages over.
    // Out of place: a pass may return tensors the caller keeps (a one-level
    // network's DSFN2 passes its level-1 maps through).
    std::vector<std::pair<Maps3, int>> sums; // partial sum, copies in it
    for (int i = 0; i < copies; i++) {
        std::vector<torch::Tensor> flipped;
        for (const auto &x : inputs)
            flipped.push_back(flip(x, kFlips[i], packed_inputs, scale));
        Maps3 maps = pass(flipped);
        flipped.clear();
        for (auto &m : maps)
            m = flip(m, kFlips[i], true, scale);
        sums.emplace_back(std::move(maps), 1);
        while (sums.size() > 1 && sums[sums.size() - 2].second == sums.back().second) {
            auto last = std::move(sums.back());
            sums.pop_back();
            for (int j = 0; j < 3; j++)
                sums.back().first[j] = sums.back().first[j] + last.first[j];
            sums.back().second *= 2;
        }
    }
    Maps3 mean = std::move(sums.front().first);
    for (auto &m : mean)
        m = channels_last(m * (1.0 / copies));
    return mean;
}

} // namespace dsfn
