// The engine's configuration: its defaults and its checks, before anything loads.
#pragma once

#include <torch/torch.h>

#include <string>

#include "dsfn/engine.h"

namespace dsfn {

constexpr int kMinTile = 16;       // the smallest tile side, in input pixels
constexpr int kMaxEdgeMirror = 64; // the widest mirrored edge, in input pixels

// Throws EngineError (EINVAL) naming the first option out of its range. The
// device and the model file are checked where they are used.
void check_config(const DSFNEngineConfig &config);

// "cpu", "cuda" or "cuda:N", checked against the GPUs this LibTorch sees.
torch::Device parse_device(const std::string &name);

} // namespace dsfn
