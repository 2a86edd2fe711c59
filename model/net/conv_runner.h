// How a level's plain convolutions, activations and residual sums are computed
// when they are not computed by the modules' own float forward(). Each point of
// the graph is named by its module path ("dsfn1.jdsr.0.block1.conv2"), so the
// calibration that measures activation ranges (RangeObserver) and the int8
// arithmetic that uses them (Int8Runner) walk exactly the same tensors.
#pragma once

#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

namespace dsfn {

// The slope of the network's LeakyReLU for negative inputs.
constexpr double kLeakySlope = 0.1;

class DeformConv3x3Impl; // deform_conv.h

// The three residual bases as one float32 channels-last batch, for a
// convolution to add the residuals onto in its own pass
// (ConvRunner::conv_onto_bases), and the three thirds of that batch. Bases that
// are the thirds of one such batch already (NetworkImpl::level1_bases) are that
// batch, whose memory the sums then overwrite; any others are copied into a new one.
torch::Tensor stacked_bases(const std::array<torch::Tensor, 3> &bases);
std::array<torch::Tensor, 3> thirds(const torch::Tensor &batch);

// Checks that a convolution a runner prepacks is a plain one (stride 1, no
// dilation, one group: every convolution of the network keeps its input's size,
// conv3x3 in dsfn_net.cpp); throws std::runtime_error naming it otherwise.
void require_plain_conv(const std::string &name, const torch::nn::Conv2dImpl &conv);

class ConvRunner {
public:
    virtual ~ConvRunner() = default;
    // Float tensors, concatenated along their first dimension, into the
    // runner's representation, at the named point.
    virtual torch::Tensor enter(const std::string &point, const std::vector<torch::Tensor> &batch) = 0;
    // Float tensors concatenated along their channels (dimension 1), into the
    // runner's representation at the named point. By default enter() of their
    // concatenation; a runner may skip making it.
    virtual torch::Tensor enter_channels(const std::string &point, const std::vector<torch::Tensor> &parts);
    // Back to float32 (a float32 tensor as it is).
    virtual torch::Tensor leave(const torch::Tensor &x) = 0;
    // conv(x); its output is the point named `point`.
    virtual torch::Tensor conv(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x) = 0;
    // LeakyReLU(kLeakySlope) of conv(x), whose output (before LeakyReLU) is the
    // point named `point`. A runner may do both in one pass.
    virtual torch::Tensor conv_leaky(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
    {
        return leaky(this->conv(point, conv, x));
    }
    // conv(x) as float32, its output being the point named `point`: the offsets
    // of the deformable warp, read as positions. A runner may skip the rounding.
    virtual torch::Tensor conv_float(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
    {
        return leave(this->conv(point, conv, x));
    }
    // conv(x) as float32: the decoder's last convolution, whose outputs are the
    // pictures' residuals. They are never rounded to 8 bits, where 8 bits would
    // cost most; a runner may still read x in 8 bits.
    virtual torch::Tensor conv_to_float(torch::nn::Conv2dImpl &conv, const torch::Tensor &x) = 0;
    // The level's three output maps: conv_to_float(conv, x), whose batch is the
    // three outputs stacked, plus each one's residual base (float32, a third of
    // the batch each). A runner may add the bases in the convolution's pass.
    virtual std::array<torch::Tensor, 3> conv_onto_bases(torch::nn::Conv2dImpl &conv, const torch::Tensor &x,
                                                         const std::array<torch::Tensor, 3> &bases);
    // LeakyReLU(kLeakySlope) of a conv output, which may be overwritten.
    virtual torch::Tensor leaky(torch::Tensor x) = 0;
    // a + b, the sum being the point named `point`.
    virtual torch::Tensor add(const std::string &point, const torch::Tensor &a, const torch::Tensor &b) = 0;
    // residual + conv(x): the sum is the point named `point`, conv's output the
    // point `conv_point`. residual is a residual block's input, which nothing
    // reads afterwards: a runner may write the sum over it, in one pass with the
    // convolution.
    virtual torch::Tensor conv_add(const std::string &point, const std::string &conv_point, torch::nn::Conv2dImpl &conv,
                                   const torch::Tensor &x, const torch::Tensor &residual)
    {
        return add(point, this->conv(conv_point, conv, x), residual);
    }
    // The decoder's input, entered at the point named `point`: centre warped by
    // each of the two offset fields, and centre itself, as the batch [first,
    // centre, last]. By default the warp runs in float32 on the float centre (the
    // module's own forward); a runner may run it in its own arithmetic.
    virtual torch::Tensor warp_three(const std::string &point, DeformConv3x3Impl &warp, const torch::Tensor &centre,
                                     const torch::Tensor &to_first, const torch::Tensor &to_last);
};

} // namespace dsfn
