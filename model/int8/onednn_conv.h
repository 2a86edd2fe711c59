// The int8 convolution through oneDNN's own API, in builds that call oneDNN
// directly (onednn/onednn_engine.h). Calling it directly
// lets one pass of the convolution also apply LeakyReLU (an eltwise post-op) or
// give a float32 output from 8-bit inputs, which LibTorch's quantized conv2d
// cannot: it saves a pass over the activations per convolution, and the offsets
// of the deformable warp are never rounded to 8 bits.
//
// A build without it compiles this into a class that cannot be made
// (onednn_available() is false, the constructor throws).
#pragma once

#include <memory>
#include <string>

#include "int8/quantized_conv.h"
#include "onednn/onednn_engine.h"

namespace dsfn {

class OnednnConv final : public QuantizedConv {
public:
    // Throws std::runtime_error (also in a build without oneDNN).
    OnednnConv(const torch::Tensor &weight, const torch::Tensor &bias);
    ~OnednnConv() override;
    OnednnConv(const OnednnConv &) = delete;
    OnednnConv &operator=(const OnednnConv &) = delete;

    torch::Tensor to_u8(const torch::Tensor &x, const QuantParams &out, bool leaky) const override;
    torch::Tensor to_float(const torch::Tensor &x, const QuantParams &out) const override;
    torch::Tensor add_float_into(const torch::Tensor &x, const QuantParams &out, torch::Tensor sums) const override;
    bool rounds_float_output() const override { return false; }

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace dsfn
