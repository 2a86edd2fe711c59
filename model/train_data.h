// Training pairs for DSFN (paper section 4.1, DESIGN section 5), synthesised from
// still photos: a smooth random camera path plus an independently moving
// foreground layer are rendered at a high internal frame rate, so blur and motion
// are physically consistent. A blurry input frame is the mean of the sharp
// sub-frames of its shutter interval, reduced 4x with an antialiased bicubic
// kernel; ground truth is the sharp sub-frame at the keyframe and halfway times.
#pragma once

#include <torch/torch.h>

#include <array>
#include <random>
#include <string>
#include <vector>

namespace dsfn {

// Photos as float RGB tensors [3, H, W] in [0, 1].
class PhotoSet {
public:
    // Loads every binary PPM (P6, 8-bit) in dir; throws if there are none.
    explicit PhotoSet(const std::string &dir);
    explicit PhotoSet(std::vector<torch::Tensor> photos) : photos_(std::move(photos)) {}
    size_t size() const { return photos_.size(); }
    const torch::Tensor &operator[](size_t i) const { return photos_[i]; }

private:
    std::vector<torch::Tensor> photos_;
};

torch::Tensor read_ppm(const std::string &path);

struct DegradeOptions {
    int64_t patch = 32;         // low-resolution patch size
    int64_t scale = 4;          // r
    int64_t subframes = 8;      // sharp sub-frames per input frame interval (the paper: 8)
    int64_t max_shutter = 11;   // longest exposure in sub-frames (the paper: 11)
    double max_speed = 3.0;     // camera speed, high-resolution pixels per sub-frame
    double noise_std = 0.01;    // Gaussian noise added to the inputs
};

// One window of training data: 4 blurry inputs B0..B3 [N, 3, P, P] and sharp
// ground truth [N, 3, rP, rP] at the five level-1 output times (B0+1/2, B1,
// B1+1/2, B2, B2+1/2); level 2 predicts the middle three.
struct Batch {
    std::array<torch::Tensor, 4> inputs;
    std::array<torch::Tensor, 5> truth;
};

// Deterministic in seed: the same seed gives the same batch.
Batch make_batch(const PhotoSet &photos, const DegradeOptions &opt, int64_t batch, uint64_t seed);

// Number of sharp sub-frames one window needs: keyframe k sits at index
// first_keyframe(opt) + k * opt.subframes, for k = 0..3.
int64_t window_subframes(const DegradeOptions &opt);
int64_t first_keyframe(const DegradeOptions &opt);

// The degradation of one window of sharp sub-frames [window_subframes, 3, rP, rP]:
// blurry input k = mean of the 2 * shutter_half + 1 sub-frames centred on keyframe
// k, reduced to P x P, plus noise, rounded to 8 bits; truth i = the sub-frame at
// keyframe 0 + (i + 1) / 2 frame intervals. Adds one sample to inputs and truth.
void degrade_window(const torch::Tensor &frames, int64_t shutter_half, const DegradeOptions &opt,
                    at::Generator &gen, std::array<std::vector<torch::Tensor>, 4> &inputs,
                    std::array<std::vector<torch::Tensor>, 5> &truth);

// Renders sharp sub-frames [T, 3, S, S] of a photo along an affine camera path:
// frame t samples the photo at centre + R(angle_t) * zoom_t * (pixel offset) + shift_t.
torch::Tensor render_path(const torch::Tensor &photo, int64_t size, const std::vector<double> &cx,
                          const std::vector<double> &cy, const std::vector<double> &angle,
                          const std::vector<double> &zoom);

} // namespace dsfn
