// One plane of a picture in the caller's memory as a tensor over that memory,
// on the CPU or (for pictures in device memory) on the engine's GPU.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace dsfn {

// h rows of w pixels of `channels` samples as a [h, w, channels] tensor over its
// rows in memory order (16-bit planes are viewed as int16: LibTorch 1.13 has no
// unsigned 16-bit type). FFmpeg passes bottom-up pictures (vflip) with a negative
// linesize; LibTorch has no negative strides (from_blob aborts the process on
// one), so such a plane is viewed from its lowest row and `bottom_up` says that
// its rows run the other way.
struct PlaneView {
    torch::Tensor rows;
    bool bottom_up;

    torch::Tensor read() const { return bottom_up ? rows.flip(0) : rows; }
    void write(const torch::Tensor &picture) { rows.copy_(bottom_up ? picture.flip(0) : picture); }
};

PlaneView plane_view(uint8_t *data, int linesize, int64_t h, int64_t w, int64_t channels,
                     torch::ScalarType type = torch::kUInt8, const torch::Device &device = torch::kCPU);

// The 16-bit samples of an int16 view as the values 0-65535 they hold (int32).
torch::Tensor unsigned_16bit(const torch::Tensor &samples);

} // namespace dsfn
