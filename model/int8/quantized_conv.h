// One convolution of the int8 arithmetic: 8-bit channels-last activations in,
// weights quantized to signed 8 bits per output channel (symmetric, from the
// float32 weights themselves) once at load. Two backends compute it:
//
// - oneDNN called directly (onednn_conv.h), in builds against a LibTorch that
//   uses the system's oneDNN (Debian's): LeakyReLU and float32 outputs come out
//   of the convolution's own pass;
// - LibTorch's quantized engine (x86, FBGEMM or oneDNN inside LibTorch), in every
//   other build: its convolution can only give 8 bits, so LeakyReLU is a second
//   pass and a float32 output is the 8-bit one read back.
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>

#include <memory>
#include <string>

#include "kernels/quantize_u8.h"

namespace dsfn {

class QuantizedConv {
public:
    virtual ~QuantizedConv() = default;
    // x: quint8, channels-last. The output quantized with out; with leaky, it is
    // LeakyReLU(kLeakySlope) of the convolution.
    virtual torch::Tensor to_u8(const torch::Tensor &x, const QuantParams &out, bool leaky) const = 0;
    // The output in float32, channels-last. out: the range a backend that can
    // only give 8 bits rounds it to first.
    virtual torch::Tensor to_float(const torch::Tensor &x, const QuantParams &out) const = 0;
    // sums + to_float(x, out), written over sums (float32, channels-last, the
    // output's size), which is returned. A backend may add in the
    // convolution's own pass.
    virtual torch::Tensor add_float_into(const torch::Tensor &x, const QuantParams &out, torch::Tensor sums) const
    {
        return sums.add_(to_float(x, out));
    }
    // Whether to_float rounds to 8 bits on the way.
    virtual bool rounds_float_output() const = 0;
};

// A convolution of weight [out, in, k, k] (k odd, stride 1, 'same' padding) and
// bias [out] (or undefined) in this build's best backend. Throws std::runtime_error.
std::unique_ptr<QuantizedConv> make_quantized_conv(const torch::Tensor &weight, const torch::Tensor &bias);

// The backend make_quantized_conv uses, for logs and reports: "oneDNN 2.6.3",
// or LibTorch's quantized engine ("LibTorch x86", "LibTorch fbgemm", ...).
std::string quantized_conv_backend();

// Makes the best quantized engine of this LibTorch the process's (x86, else
// FBGEMM, else oneDNN) and returns its name. Throws std::runtime_error if it has none.
std::string select_int8_engine();

// Symmetric signed 8 bits per output channel: the largest weight of a channel
// maps to 127. A channel of zeros gets scale 1 (any scale stores it exactly).
torch::Tensor quantize_weight_per_channel(const torch::Tensor &weight);

// LibTorch's quantized engine.
class TorchQuantizedConv final : public QuantizedConv {
public:
    TorchQuantizedConv(const torch::Tensor &weight, const torch::Tensor &bias);
    torch::Tensor to_u8(const torch::Tensor &x, const QuantParams &out, bool leaky) const override;
    torch::Tensor to_float(const torch::Tensor &x, const QuantParams &out) const override;
    bool rounds_float_output() const override { return true; }

private:
    c10::IValue packed_;
    c10::OperatorHandle op_;
};

} // namespace dsfn
