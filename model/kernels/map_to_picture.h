// The network's last step on the CPU: a map of 3 * scale^2 channels at low
// resolution becomes an 8-bit or 16-bit RGB picture (pixel shuffle, clamp to
// [0, 1], x 255 or x 65535, round) in one pass, written straight into the
// caller's planes. LibTorch's ops took five passes and two full-size float
// temporaries plus a copy for the same result.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace dsfn {

// Where the picture goes: R, G and B of pixel (0, 0), the bytes from one row to
// the next of each, and the samples from one pixel to the next (3 for packed
// RGB24, 1 for planar).
template <typename Sample>
struct RgbPlanes {
    Sample *data[3];
    int64_t linesize[3];
    int64_t pixel_step;
};
using Rgb8Planes = RgbPlanes<uint8_t>;
using Rgb16Planes = RgbPlanes<uint16_t>;

// map: [1, 3 * scale^2, h, w] float on the CPU, any memory format. The picture
// is (h * scale) x (w * scale); each value is round(255 * clamp(v, 0, 1)) (8 bits)
// or round(65535 * clamp(v, 0, 1)) (16 bits), ties to even as torch::round, and
// NaN gives 0.
void map_to_rgb8(const torch::Tensor &map, int64_t scale, const Rgb8Planes &dst);
void map_to_rgb16(const torch::Tensor &map, int64_t scale, const Rgb16Planes &dst);

// The same results from LibTorch's ops, on any device: the engine's path off the
// CPU, and the tests' reference. [3, H, W], uint8 for 8 bits, int32 for 16 bits
// (LibTorch 1.13 has no unsigned 16-bit type).
torch::Tensor map_to_rgb8_reference(const torch::Tensor &map, int64_t scale);
torch::Tensor map_to_rgb16_reference(const torch::Tensor &map, int64_t scale);

} // namespace dsfn
