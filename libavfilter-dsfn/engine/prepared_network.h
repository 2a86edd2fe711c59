// A weights file loaded the way the engine runs it: on its device, in the
// precision's arithmetic, with channels-last convolution weights.
#pragma once

#include <torch/torch.h>

#include <string>

#include "dsfn/engine.h"
#include "net/dsfn_net.h"

namespace dsfn {

// The name of a DSFNPrecision ("fp32", "bf16", "fp16", "auto"), and back (-1: none).
const char *precision_name(int precision);
int precision_from_name(const std::string &name);

// precision: fp32, bf16 or fp16 (not auto). Throws like load_weights().
Network load_prepared_network(const std::string &path, const torch::Device &device, int precision);

} // namespace dsfn
