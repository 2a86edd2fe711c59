// What one input frame costs the network: the convolutions it runs (DSFN1 once
// and DSFN2 once per frame, thanks to level-1 reuse), their FLOP count, and how
// fast the bare convolutions alone run here: the roofline the filter is
// measured against (`make bench`).
#pragma once

#include <vector>

#include "net/deform_conv.h"
#include "net/dsfn_net.h"

namespace dsfn {

struct ConvShape {
    int64_t in, out, kernel; // channels and kernel size (deformable: 3)
    int64_t batch;           // pictures per call: 3 for the shared decoder
    int64_t calls;           // calls per input frame: 2 for the deformable warp
};

// Every convolution of one input frame's passes, in network order.
std::vector<ConvShape> conv_shapes_per_frame(const NetworkImpl &net);

// Multiply-adds x 2 of those convolutions on h x w low-resolution pictures.
double conv_flops(const std::vector<ConvShape> &shapes, int64_t h, int64_t w);

// Seconds the bare channels-last convolutions of one frame take on the CPU at
// this precision, as the filter runs them in this build (kFloat, kBFloat16: through
// oneDNN directly where the build calls it, else LibTorch's conv2d; kQUInt8 for
// int8: 8-bit activations and per-channel weights in this build's int8 backend): the
// best of `repeats` timed runs after a warm-up, each shape timed once per run and
// weighted by its calls.
double conv_seconds(const std::vector<ConvShape> &shapes, int64_t h, int64_t w, torch::ScalarType type, int repeats);

// Measured cost of one input frame's work outside the bare convolutions, to
// show where the time goes: the full DSFN1 + DSFN2 passes, the deformable
// convolutions inside them (4 calls), and the picture conversions around them
// (one uint8 frame in, two 4x frames out through pixel shuffle).
struct FrameTimes {
    double passes = 0, deform = 0, convert = 0;
};
FrameTimes time_frame(NetworkImpl &net, int64_t h, int64_t w, int repeats);

} // namespace dsfn
