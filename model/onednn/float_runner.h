// Float inference (bf16, or fp32) with every plain convolution called through
// oneDNN directly (float_conv.h): LeakyReLU, the residual sums and the sums
// with the residual bases are done in the convolutions' own pass, and the
// weights are reordered once, at load. The activations stay channels-last in the
// convolutions' type from a level's input to its decoder's output, and the
// level's outputs are float32 channels-last; the deformable warp is the module's
// own.
#pragma once

#include <memory>
#include <unordered_map>

#include "net/dsfn_net.h"
#include "onednn/float_conv.h"

namespace dsfn {

// Whether this build can run float inference through oneDNN directly.
bool onednn_float_runner_available();

class OnednnFloatRunner : public ConvRunner {
public:
    // Prepacks every plain convolution of net in type (kFloat or kBFloat16).
    // Throws std::runtime_error (also in a build without direct oneDNN calls).
    OnednnFloatRunner(NetworkImpl &net, torch::ScalarType type);

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
    torch::Tensor conv_add(const std::string &point, const std::string &conv_point, torch::nn::Conv2dImpl &conv,
                           const torch::Tensor &x, const torch::Tensor &residual) override;
    torch::Tensor warp_three(const std::string &point, DeformConv3x3Impl &warp, const torch::Tensor &centre,
                             const torch::Tensor &to_first, const torch::Tensor &to_last) override;

private:
    const OnednnFloatConv &packed(const std::string &point, torch::nn::Conv2dImpl &conv) const;
    torch::Tensor in_type(const torch::Tensor &x) const;

    torch::ScalarType type_;
    std::unordered_map<const torch::nn::Conv2dImpl *, std::unique_ptr<OnednnFloatConv>> convs_;
};

} // namespace dsfn
