// The layouts of GPU pipelines (NVDEC gives and NVENC takes them): Y'CbCr at
// 4:2:0 or 4:4:4 and 4-byte RGB, read into the network's float RGB and written
// back from it with LibTorch's ops, so the same code runs on the CPU (the tests)
// and on the GPU, next to the frames.
#pragma once

#include <torch/torch.h>

#include "dsfn/engine.h"

namespace dsfn {

// Whether picture_io reads and writes this layout itself (the planar and packed
// 8-bit and 16-bit RGB of software frames) rather than the functions below.
bool is_rgb_layout(DSFNPixelLayout layout);

// Whether the layout holds Y'CbCr, read and written with the image's kr and kb.
bool is_ycbcr_layout(DSFNPixelLayout layout);

// The planes a layout has (1 to 3).
int plane_count(DSFNPixelLayout layout);

// A [3, h, w] float RGB picture in [0, 1] on `device`, the memory the image's
// samples are in (a GPU for DSFN_MEMORY_DEVICE). 4:2:0 chroma is interpolated
// as H.264 and HEVC site it by default: co-sited with the even luma columns,
// midway between two luma rows.
torch::Tensor read_yuv_picture(const DSFNImage &image, const torch::Device &device);

// Writes a [3, H, W] float RGB picture (clamped to [0, 1] here) into the image,
// rounded; 4:2:0 chroma is the mean over each chroma sample's site.
void write_yuv_picture(const torch::Tensor &rgb, const DSFNImage &image, const torch::Device &device);

// The mean absolute difference of two pictures of one layout and size, over every
// sample of every plane (not the unused byte of RGB0 and BGR0), in percent of the
// samples' full scale.
double picture_difference(const DSFNImage &a, const DSFNImage &b, const torch::Device &device);

} // namespace dsfn
