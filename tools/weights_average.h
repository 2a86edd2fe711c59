// The mean of several trained weights of one architecture ("model soup",
// Wortsman et al. 2022): runs fine-tuned from the same weights stay in one basin,
// and their mean can score above each of them (for four short fine-tunes of
// dsfn-w16 it scored about their average: eval/REPORT.md).
#pragma once

#include <string>
#include <vector>

#include "net/dsfn_net.h"

namespace dsfn {

// Loads every file and returns a network whose parameters are their
// element-wise mean. Throws WeightsError for a bad file and std::invalid_argument
// for fewer than two files or differing architectures.
Network average_weights(const std::vector<std::string> &paths);

} // namespace dsfn
