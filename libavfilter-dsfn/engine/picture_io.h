// Pictures in the caller's memory (host memory, or device memory on the engine's
// GPU; every layout of DSFNPixelLayout) to the network's input tensors, and its
// output maps back to pictures.
#pragma once

#include <torch/torch.h>

#include "dsfn/engine.h"
#include "engine/device_stream.h"

namespace dsfn {

// EngineError (EINVAL) for an image whose fields cannot describe a picture:
// an unknown layout or memory, Y'CbCr without luma weights, no pixels, a plane of
// its layout missing.
void check_image(const DSFNImage &image);

// Where the image's samples are: the CPU, or the engine's GPU for an image in
// device memory; EngineError (EINVAL) for device memory on a CPU engine.
torch::Device memory_of(const DSFNImage &image, const DeviceStream &place);

// A [1, 3, h + 2 edge, w + 2 edge] fp32 channels-last tensor in [0, 1] on the
// engine's device, with `edge` pixels of mirror image around the picture.
torch::Tensor read_picture(const DSFNImage &image, const DeviceStream &place, int64_t edge);

// Writes a [1, r^2 C, H, W] map (the picture grown by `edge` on each side) into
// an image of scale x the picture's size, rounded; EngineError (EINVAL) when the
// image has another size.
void write_picture(const torch::Tensor &grown_map, int64_t edge, int64_t scale, const DeviceStream &place,
                   DSFNImage &image);

} // namespace dsfn
