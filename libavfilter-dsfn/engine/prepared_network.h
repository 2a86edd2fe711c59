// A weights file loaded the way the engine runs it: on its device, in the
// precision's arithmetic, with channels-last convolution weights.
#pragma once

#include <torch/torch.h>

#include <string>

#include "dsfn/engine.h"
#include "net/dsfn_net.h"

namespace dsfn {

// The name of a DSFNPrecision ("fp32", "bf16", "fp16", "auto", "int8"), and back (-1: none).
const char *precision_name(int precision);
int precision_from_name(const std::string &name);

// precision: fp32, bf16, fp16 or int8 (not auto; int8 on the CPU only, with the
// model's activation ranges beside it). Throws like load_weights(), and
// std::runtime_error for missing or bad int8 ranges.
Network load_prepared_network(const std::string &path, const torch::Device &device, int precision);

} // namespace dsfn
