// The int8 arithmetic of the plain convolutions: activations quantized to
// unsigned 8 bits per tensor with the calibrated ranges (activation_ranges.h),
// weights to signed 8 bits per output channel (symmetric, from the weights
// themselves), run by oneDNN directly or LibTorch's quantized engine
// (quantized_conv.h).
//
// The residual stream (each block's input plus its convolutions' output) stays
// float32, with an 8-bit copy for the next convolution to read: requantizing the
// stream at every block let the rounding errors of all blocks add up, the largest
// part of int8's distance from float32 (eval/REPORT.md). LeakyReLU works on 8
// bits. The convolution that makes the residuals reads 8 bits and gives float32
// where the backend can (oneDNN; rounding its output to 8 bits cost 0.27 dB),
// else runs in float32. The deformable warp samples the 8-bit copy of its input
// and multiplies in 8 bits too (kernels/deform_u8.h), straight into the
// decoder's 8-bit input; the sums with the residual bases run in float32, in
// the last convolution's pass where the backend can (oneDNN).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "int8/activation_ranges.h"
#include "int8/quantized_conv.h"
#include "kernels/deform_u8.h"
#include "kernels/quantize_u8.h"
#include "net/dsfn_net.h"

namespace dsfn {

class Int8Runner : public ConvRunner {
public:
    // Prepacks every convolution of net (float32 weights) and checks that ranges
    // has every point the network's graph quantizes. Throws std::runtime_error.
    Int8Runner(NetworkImpl &net, const ActivationRanges &ranges, const std::string &ranges_path);

    torch::Tensor enter(const std::string &point, const std::vector<torch::Tensor> &batch) override;
    torch::Tensor enter_channels(const std::string &point, const std::vector<torch::Tensor> &parts) override;
    torch::Tensor leave(const torch::Tensor &x) override;
    torch::Tensor conv(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    torch::Tensor conv_leaky(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    torch::Tensor conv_float(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    torch::Tensor conv_to_float(torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    std::array<torch::Tensor, 3> conv_onto_bases(torch::nn::Conv2dImpl &conv, const torch::Tensor &x,
                                                 const std::array<torch::Tensor, 3> &bases) override;
    torch::Tensor leaky(torch::Tensor x) override;
    torch::Tensor add(const std::string &point, const torch::Tensor &a, const torch::Tensor &b) override;
    torch::Tensor warp_three(const std::string &point, DeformConv3x3Impl &warp, const torch::Tensor &centre,
                             const torch::Tensor &to_first, const torch::Tensor &to_last) override;

private:
    struct PackedConv {
        std::unique_ptr<QuantizedConv> conv;
        QuantParams output;
    };
    // A residual sum's 8-bit copy, found by its float value while that lives.
    struct Twin {
        using Weak = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;
        Weak value;
        torch::Tensor bytes;
    };
    const QuantParams &params(const std::string &point) const;
    void remember(const torch::Tensor &value, torch::Tensor bytes);
    const torch::Tensor &bytes_of(const torch::Tensor &value, const std::string &point) const;
    // The prepacked convolution and its 8-bit input.
    std::pair<const PackedConv *, torch::Tensor> prepare(const std::string &point, torch::nn::Conv2dImpl &conv,
                                                         const torch::Tensor &x) const;

    std::unordered_map<const torch::nn::Conv2dImpl *, PackedConv> convs_;
    std::unordered_map<const DeformConv3x3Impl *, std::unique_ptr<DeformConvU8>> warps_;
    std::unordered_map<std::string, QuantParams> points_;
    std::vector<Twin> twins_;
};

// Every point the int8 arithmetic of net quantizes, by name.
std::vector<std::string> int8_points(NetworkImpl &net);

// The 8-bit grid of each of those points, from ranges. Throws std::runtime_error
// naming ranges_path if one is missing.
std::unordered_map<std::string, QuantParams> int8_grids(NetworkImpl &net, const ActivationRanges &ranges,
                                                        const std::string &ranges_path);

} // namespace dsfn
