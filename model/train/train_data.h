// Training pairs for DSFN (the paper's section 4.1: docs/NETWORK.md), synthesised from
// still photos: a smooth random camera path plus an independently moving
// foreground layer are rendered at a high internal frame rate, so blur and motion
// are physically consistent. A blurry input frame is the mean of the sharp
// sub-frames of its shutter interval, reduced 4x with an antialiased bicubic
// kernel; ground truth is the sharp sub-frame at the keyframe and halfway times.
// Some windows are cut from real clips instead, with a clip frame as the sub-frame.
#pragma once

#include <torch/torch.h>

#include <array>
#include <random>
#include <string>
#include <vector>

namespace dsfn {

// Photos as float RGB tensors [3, H, W] in [0, 1], each with copies reduced 2x
// and 4x (2x2 means): a patch of a reduced copy holds a wider view, as dense in
// detail as a whole scene in a small video frame.
class PhotoSet {
public:
    static constexpr int levels = 3;
    // Loads every binary PPM (P6, 8-bit) in dir; throws if there are none.
    explicit PhotoSet(const std::string &dir);
    explicit PhotoSet(std::vector<torch::Tensor> photos);
    size_t size() const { return photos_.size(); }
    const torch::Tensor &operator[](size_t i) const { return photos_[i][0]; }
    // Photo i reduced 2^level times, level 0 to levels - 1.
    const torch::Tensor &reduced(size_t i, int level) const { return photos_[i].at(level); }

private:
    void add(torch::Tensor photo);
    std::vector<std::array<torch::Tensor, levels>> photos_;
};

// Real footage: each clip a subdirectory of PPM frames in name order, kept as
// 8-bit [T, 3, H, W] (scripts/train/fetch-training-clips.sh writes them).
class ClipSet {
public:
    ClipSet() = default;
    // Loads every subdirectory of dir that holds .ppm frames; no dir, no clips.
    explicit ClipSet(const std::string &dir);
    // Clips in memory, named "clip 0", "clip 1", ...
    explicit ClipSet(std::vector<torch::Tensor> clips);
    size_t size() const { return clips_.size(); }
    bool empty() const { return clips_.empty(); }
    const torch::Tensor &operator[](size_t i) const { return clips_[i]; }
    const std::vector<std::string> &names() const { return names_; }

private:
    std::vector<torch::Tensor> clips_;
    std::vector<std::string> names_;
};

// [3, H, W]: float in [0, 1], or the bytes as they are.
torch::Tensor read_ppm(const std::string &path);
torch::Tensor read_ppm_bytes(const std::string &path);

struct DegradeOptions {
    int64_t patch = 32;       // low-resolution patch size
    int64_t scale = 4;        // r
    int64_t subframes = 8;    // sharp sub-frames per input frame interval (the paper: 8)
    int64_t max_shutter = 11; // longest exposure in sub-frames (the paper: 11)
    double max_speed = 3.0;   // camera speed, high-resolution pixels per sub-frame
    int photo_levels = 1;     // scenes from photo reductions 1x..2^(photo_levels-1)x, one drawn per scene
    double noise_std = 0.01;  // Gaussian noise added to the inputs
    bool noise_up_to = false; // each window's deviation drawn from [0, noise_std] instead
    double bicubic_a = -0.5;  // Keys' a of the reduction (-0.6: FFmpeg's bicubic; -0.5: the first runs')
    // Windows cut from real clips (when there are any) follow the lower-rate
    // protocol: a clip frame is a sub-frame, m = 2, blur over 3 frames.
    double clip_fraction = 0.25;
    double clip_camera = 0; // share of clip windows seen through a handheld camera path, not a fixed crop
    int64_t clip_subframes = 2;
    int64_t clip_shutter = 3;
};

// One window of training data: 4 blurry inputs B0..B3 [N, 3, P, P] and sharp
// ground truth [N, 3, rP, rP] at the five level-1 output times (B0+1/2, B1,
// B1+1/2, B2, B2+1/2); level 2 predicts the middle three.
struct Batch {
    std::array<torch::Tensor, 4> inputs;
    std::array<torch::Tensor, 5> truth;
};

// Deterministic in seed: the same seed gives the same batch. With clips, about
// opt.clip_fraction of the windows come from them (randomly cropped, flipped and
// time-reversed); without, batches are the same as from photos alone.
Batch make_batch(const PhotoSet &photos, const DegradeOptions &opt, int64_t batch, uint64_t seed);
Batch make_batch(const PhotoSet &photos, const ClipSet &clips, const DegradeOptions &opt, int64_t batch, uint64_t seed);

// The options of a window cut from a real clip.
DegradeOptions clip_options(const DegradeOptions &opt);

// Number of sharp sub-frames one window needs: keyframe k sits at index
// first_keyframe(opt) + k * opt.subframes, for k = 0..3.
int64_t window_subframes(const DegradeOptions &opt);
int64_t first_keyframe(const DegradeOptions &opt);

// The degradation of one window of sharp sub-frames [window_subframes, 3, rP, rP]:
// blurry input k = mean of the 2 * shutter_half + 1 sub-frames centred on keyframe
// k, reduced to P x P, plus noise, rounded to 8 bits; truth i = the sub-frame at
// keyframe 0 + (i + 1) / 2 frame intervals. Adds one sample to inputs and truth.
void degrade_window(const torch::Tensor &frames, int64_t shutter_half, const DegradeOptions &opt, at::Generator &gen,
                    std::array<std::vector<torch::Tensor>, 4> &inputs,
                    std::array<std::vector<torch::Tensor>, 5> &truth);

// The inputs' noise deviation as recipes print it: "0.01", or "0 to 0.01" when drawn per window.
std::string noise_text(const DegradeOptions &opt);

// Weights [out, in] of a 1-D antialiased bicubic reduction from in to out samples:
// Keys' cubic with parameter a, stretched by in / out, sample centres aligned, taps
// past an edge on the edge sample. With a = -0.6 this is FFmpeg's scale=flags=bicubic
// (swscale's default B = 0, C = 0.6); torch's antialias=true has a = -0.5.
torch::Tensor bicubic_reduction(int64_t in, int64_t out, double a);

// Renders sharp sub-frames [T, 3, S, S] of a photo [3, H, W] along an affine camera
// path: frame t samples the photo at centre + R(angle_t) * zoom_t * (pixel offset) +
// shift_t. Given frames [T, 3, H, W] instead, frame t samples frame t.
torch::Tensor render_path(const torch::Tensor &photo, int64_t size, const std::vector<double> &cx,
                          const std::vector<double> &cy, const std::vector<double> &angle,
                          const std::vector<double> &zoom);

} // namespace dsfn
