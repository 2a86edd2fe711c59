#include "flip_ensemble.h"

namespace dsfn {
namespace {

// Flips of the copies, as dimensions of [N, C, H, W]: none, mirrored, upside
// down, both. The first two and the last two are mirror pairs.
const std::vector<int64_t> kFlips[] = {{}, {3}, {2}, {2, 3}};

torch::Tensor channels_last(const torch::Tensor &x)
{
    return x.contiguous(at::MemoryFormat::ChannelsLast);
}

// A packed map flips as the picture it holds: unpacked, flipped, packed again
// (flipping the map alone would leave each r x r block in the old order).
torch::Tensor flip(const torch::Tensor &x, const std::vector<int64_t> &dims, bool packed, int64_t scale)
{
    if (dims.empty())
        return channels_last(x);
    if (!packed)
        return channels_last(x.flip(dims));
    return channels_last(torch::pixel_unshuffle(torch::pixel_shuffle(x, scale).flip(dims), scale));
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
    std::vector<Maps3> results;
    for (int i = 0; i < copies; i++) {
        std::vector<torch::Tensor> flipped;
        for (const auto &x : inputs)
            flipped.push_back(flip(x, kFlips[i], packed_inputs, scale));
        Maps3 maps = pass(flipped);
        for (auto &m : maps)
            m = flip(m, kFlips[i], true, scale);
        results.push_back(std::move(maps));
    }
    // Pairwise sums: a flip of the input only swaps the members of pairs (or the
    // pairs), and float addition is commutative, so the mean is exactly equivariant.
    for (size_t n = results.size(); n > 1; n /= 2)
        for (size_t i = 0; i < n / 2; i++)
            for (int j = 0; j < 3; j++)
                results[i][j] = results[2 * i][j] + results[2 * i + 1][j];
    Maps3 mean = results[0];
    for (auto &m : mean)
        m = channels_last(m.mul_(1.0 / copies));
    return mean;
}

} // namespace dsfn
