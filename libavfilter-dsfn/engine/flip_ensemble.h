// Self-ensemble over flips: the network was trained on flipped windows as well,
// so a pass over flipped pictures, flipped back, is an estimate as good as the
// plain one with partly independent errors; their mean is a little better than
// either (and costs one pass per copy).
#ifndef DSFN_FLIP_ENSEMBLE_H
#define DSFN_FLIP_ENSEMBLE_H

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "net/dsfn_net.h"

namespace dsfn {

using Pass = std::function<Maps3(const std::vector<torch::Tensor> &)>;

// Whether `copies` is a supported ensemble size: 1 (plain), 2 (and mirrored),
// 4 (each also upside down).
bool valid_flip_copies(int copies);

// The mean of `copies` passes over flipped copies of `inputs`, each flipped
// back. Inputs are pictures [N, C, H, W] or, with packed_inputs, maps of r^2 C
// channels at input size (as the outputs always are); `scale` is r. The mean is
// summed pairwise, so the result for a mirrored input (with 4 copies, also an
// upside-down one) is exactly the flipped result.
Maps3 flip_ensemble(const std::vector<torch::Tensor> &inputs, bool packed_inputs, int copies, int64_t scale,
                    const Pass &pass);

} // namespace dsfn

#endif
