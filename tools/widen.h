// Widening a trained network (Net2WiderNet, Chen, Goodfellow & Shlens 2016):
// a network of more channels that computes exactly what the narrow one does,
// so a wider model starts training where the narrow one stopped instead of
// from random weights.
#pragma once

#include <cstdint>

#include "net/dsfn_net.h"

namespace dsfn {

// Channel j of every widened feature map copies channel j mod n of the narrow
// one (n its channel count). Each consumer's weights on a channel's copies are
// random positive shares of the narrow weight (a different split per weight,
// drawn from seed) that add up to it, so the outputs are unchanged while the
// copies get different gradients and can grow apart in training.
// Throws std::invalid_argument when width is below the narrow network's.
Network widen(const NetworkImpl &narrow, int64_t width, uint64_t seed);

} // namespace dsfn
