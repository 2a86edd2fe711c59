// The DSFN network (Choi & Park, "Joint video enhancement with deblurring,
// super-resolution, and frame interpolation network", sections 3 and 4.3).
// One definition, used by the filter's engine, the tools and the trainer.
#pragma once

#include <torch/torch.h>

#include <array>
#include <memory>
#include <string>

#include "net/conv_runner.h"
#include "net/deform_conv.h"

namespace dsfn {

struct Architecture {
    int64_t width = 64; // base channel count m of SubModule(m); the paper uses 64
    int64_t scale = 4;  // upscaling factor r
    int64_t levels = 2; // DSFN1 (+ DSFN2)
    int64_t colors = 3; // image channels C

    int64_t map_channels() const { return colors * scale * scale; } // r^2 C
    bool operator==(const Architecture &o) const
    {
        return width == o.width && scale == o.scale && levels == o.levels && colors == o.colors;
    }
};

// conv - LeakyReLU(0.1) - conv, plus identity.
class ResidualBlockImpl : public torch::nn::Module {
public:
    explicit ResidualBlockImpl(int64_t channels);
    torch::Tensor forward(const torch::Tensor &x);
    // The same graph through a runner; name: this block's module path. The
    // runner may write the result over x (ConvRunner::conv_add).
    torch::Tensor run(ConvRunner &runner, const std::string &name, const torch::Tensor &x);

private:
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(ResidualBlock);

// SubModule(m): one 3x3 conv to m channels, then two residual blocks.
class SubModuleImpl : public torch::nn::Module {
public:
    SubModuleImpl(int64_t in_channels, int64_t channels);
    torch::Tensor forward(const torch::Tensor &x);
    torch::Tensor run(ConvRunner &runner, const std::string &name, const torch::Tensor &x);

private:
    torch::nn::Conv2d head{nullptr};
    ResidualBlock block1{nullptr}, block2{nullptr};
};
TORCH_MODULE(SubModule);

// Three high-resolution feature maps (r^2 C channels at input size) of the
// outputs of one level, in time order: first in-between/keyframe, centre, last.
using Maps3 = std::array<torch::Tensor, 3>;

// One DSFN level: encoder, JDSR, TFBFI with deformable warping, shared decoder.
class LevelImpl : public torch::nn::Module {
public:
    LevelImpl(int64_t in_channels, const Architecture &arch);
    // x: [N, in_channels, H, W]; base: the residual bases of the three outputs.
    Maps3 forward(const torch::Tensor &x, const Maps3 &base);
    // The type the convolutions compute in: their weights'.
    c10::ScalarType compute_type() const { return warp->weight.scalar_type(); }
    // The same through a runner (its convolutions, residual sums and warp; the
    // sums with the bases in float32). inputs: x's parts, concatenated along the
    // channels by the runner as it enters them; name: this level's module path.
    Maps3 run(ConvRunner &runner, const std::string &name, const std::vector<torch::Tensor> &inputs, const Maps3 &base);

private:
    torch::nn::Sequential encoder{nullptr}, jdsr{nullptr}, tfbfi{nullptr}, decoder{nullptr};
    torch::nn::Conv2d offsets{nullptr}; // both offset fields from one head
    DeformConv3x3 warp{nullptr};
};
TORCH_MODULE(Level);

// Level-1 result of one triple (B_{k-1}, B_k, B_{k+1}): maps for k-1/2, k, k+1/2.
using Level1Maps = Maps3;

class NetworkImpl : public torch::nn::Module {
public:
    explicit NetworkImpl(const Architecture &arch);

    const Architecture &architecture() const { return arch_; }

    // DSFN1 on three consecutive frames, each [N, C, H, W] in [0, 1].
    Level1Maps level1(const torch::Tensor &b0, const torch::Tensor &b1, const torch::Tensor &b2);
    // DSFN2 on two consecutive level-1 results (triples k and k+1): refined
    // maps for keyframe k, the in-between k+1/2 and keyframe k+1.
    Maps3 level2(const Level1Maps &a, const Level1Maps &b);

    // The five level-1 maps of a window (k-1/2, k, k+1/2 averaged, k+1, k+3/2).
    static std::array<torch::Tensor, 5> merge_level1(const Level1Maps &a, const Level1Maps &b);

    // Channel-wise repetition (Rep in eq. 10): pixel shuffle of it is nearest upscaling.
    torch::Tensor repeat_channels(const torch::Tensor &image) const;
    // The three level-1 residual bases, repeat_channels of each image; in
    // inference, the thirds of one float32 channels-last batch (stacked_bases).
    Maps3 level1_bases(const std::array<torch::Tensor, 3> &images) const;
    // Periodic shuffling of a map to an image [N, C, rH, rW].
    torch::Tensor to_image(const torch::Tensor &map) const;

    int64_t parameter_count() const;

    // From now on the levels run their plain convolutions through runner
    // (Int8Runner, a RangeObserver to calibrate it, a FakeQuantRunner to train
    // for it, or OnednnFloatRunner); null: the modules' own forward() again.
    void run_convs_with(std::shared_ptr<ConvRunner> runner) { runner_ = std::move(runner); }
    const std::shared_ptr<ConvRunner> &shared_conv_runner() const { return runner_; }

    // Zero both decoders' last convolutions: every output is then its residual
    // base (nearest-upscaled keyframes, mean of neighbours in between). A test
    // fixture with exactly predictable pictures, not a useful model.
    void zero_residuals();

private:
    Architecture arch_;
    Level dsfn1{nullptr}, dsfn2{nullptr};
    std::shared_ptr<ConvRunner> runner_;
    // The level on its input's channel parts.
    Maps3 run_level(Level &level, const char *name, const std::vector<torch::Tensor> &inputs, const Maps3 &base);
};
TORCH_MODULE(Network);

} // namespace dsfn
