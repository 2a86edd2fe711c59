// Quantization-aware training: the int8 arithmetic of Int8Runner (int8_runner.h)
// simulated in float32 with gradients, so that fine-tuning can teach the weights
// to live with it. Every point is rounded to its 8-bit grid (the ranges of
// MODEL.int8, held fixed) and every convolution's weights to theirs (signed 8 bits
// per output channel, as quantize_weight_per_channel); gradients pass the
// rounding unchanged and stop where a value is clipped (straight-through).
//
// It mirrors the oneDNN backend's graph: LeakyReLU before the rounding, the
// offsets and the residuals in float32 from 8-bit inputs, the residual stream in
// float32 with an 8-bit copy for the next convolution, the warp's samples rounded
// to the grid of the copy it samples. That is the arithmetic of
// the CPU build users run int8 with, whichever build trains (a CUDA build's int8
// is LibTorch's engine, quantized_conv.h, whose roundings differ in the details).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "int8/activation_ranges.h"
#include "kernels/quantize_u8.h"
#include "net/dsfn_net.h"

namespace dsfn {

class FakeQuantRunner : public ConvRunner {
public:
    // Throws std::runtime_error if ranges lacks a point of the network's graph.
    FakeQuantRunner(NetworkImpl &net, const ActivationRanges &ranges, const std::string &ranges_path);

    torch::Tensor enter(const std::string &point, const std::vector<torch::Tensor> &batch) override;
    torch::Tensor leave(const torch::Tensor &x) override;
    torch::Tensor conv(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    torch::Tensor conv_leaky(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    torch::Tensor conv_float(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    torch::Tensor conv_to_float(torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    torch::Tensor leaky(torch::Tensor x) override;
    torch::Tensor add(const std::string &point, const torch::Tensor &a, const torch::Tensor &b) override;
    torch::Tensor warp_three(const std::string &point, DeformConv3x3Impl &warp, const torch::Tensor &centre,
                             const torch::Tensor &to_first, const torch::Tensor &to_last) override;

private:
    // A residual sum and its rounded copy, which convolutions and the warp read
    // in its place, and the grid it was rounded to.
    struct Twin {
        using Weak = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;
        Weak value;
        torch::Tensor rounded;
        QuantParams grid;
    };
    const QuantParams &grid(const std::string &point) const;
    torch::Tensor round_to(const std::string &point, const torch::Tensor &x) const;
    // x's twin if x is a residual sum that lives, else null.
    const Twin *twin_of(const torch::Tensor &x) const;
    // What a convolution reads for x: its rounded copy if x is a residual sum.
    torch::Tensor input_of(const torch::Tensor &x) const;
    torch::Tensor convolve(torch::nn::Conv2dImpl &conv, const torch::Tensor &x) const;

    std::unordered_map<std::string, QuantParams> points_;
    std::vector<Twin> twins_;
};

// Weights rounded to signed 8 bits per output channel (scale: the channel's
// largest magnitude / 127), with straight-through gradients.
torch::Tensor fake_quantize_weight(const torch::Tensor &weight);

} // namespace dsfn
