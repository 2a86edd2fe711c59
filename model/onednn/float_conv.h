// A float convolution (bf16 or fp32) through oneDNN's own API, channels-last,
// its weights reordered once, when it is made, into the layout the
// implementation reads. One pass also applies LeakyReLU (an eltwise post-op)
// or adds the residual its output is written over (a sum post-op): LibTorch's
// conv2d leaves each of those to a pass of its own over the activations.
//
// A build without direct oneDNN calls (onednn_engine.h) compiles this into a
// class that cannot be made (the constructor throws).
#pragma once

#include <torch/torch.h>

#include <memory>

namespace dsfn {

class OnednnFloatConv {
public:
    // weight [out, in, k, k] with k odd (the output keeps the input's size),
    // bias [out] or undefined; both of any float type, computed in type
    // (kFloat or kBFloat16). Throws std::runtime_error.
    OnednnFloatConv(const torch::Tensor &weight, const torch::Tensor &bias, torch::ScalarType type);
    ~OnednnFloatConv();
    OnednnFloatConv(const OnednnFloatConv &) = delete;
    OnednnFloatConv &operator=(const OnednnFloatConv &) = delete;

    // conv(x), then LeakyReLU(kLeakySlope) with leaky: channels-last, of the
    // convolution's type, or float32 with to_float. x: [n, in, h, w] of its type.
    torch::Tensor run(const torch::Tensor &x, bool leaky, bool to_float) const;
    // residual + conv(x), written over residual ([n, out, h, w], channels-last,
    // of the convolution's type or float32), which is returned.
    torch::Tensor add_into(const torch::Tensor &x, torch::Tensor residual) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace dsfn
