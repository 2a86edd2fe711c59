// The network's last step on the CPU: a map of 3 * scale^2 channels at low
// resolution becomes an 8-bit RGB picture (pixel shuffle, clamp to [0, 1],
// x 255, round) in one pass, written straight into the caller's planes.
// LibTorch's ops took five passes and two full-size float temporaries plus a byte
// copy (0.9 GB at 7680x4320) for the same result.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace dsfn {

// Where the picture goes: R, G and B of pixel (0, 0), the bytes from one row to
// the next of each, and from one pixel to the next (3 for packed RGB24, 1 for
// planar).
struct Rgb8Planes {
    uint8_t *data[3];
    int64_t linesize[3];
    int64_t pixel_step;
};

// map: [1, 3 * scale^2, h, w] float on the CPU, any memory format. The picture
// is (h * scale) x (w * scale); each value is round(255 * clamp(v, 0, 1)), ties
// to even as torch::round, and NaN gives 0.
void map_to_rgb8(const torch::Tensor &map, int64_t scale, const Rgb8Planes &dst);

// The same result from LibTorch's ops, on any device: the engine's path off the
// CPU, and the tests' reference.
torch::Tensor map_to_rgb8_reference(const torch::Tensor &map, int64_t scale); // [3, H, W] uint8

} // namespace dsfn
