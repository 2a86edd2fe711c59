#include "onednn/float_runner.h"

#include "kernels/concat_channels.h"
#include "onednn/onednn_engine.h"

#include <stdexcept>

namespace dsfn {

bool onednn_float_runner_available()
{
    return onednn_available();
}

OnednnFloatRunner::OnednnFloatRunner(NetworkImpl &net, torch::ScalarType type) : type_(type)
{
    for (const auto &m : net.named_modules("", false)) {
        auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(m.value());
        if (!conv)
            continue;
        require_plain_conv(m.key(), *conv);
        convs_.emplace(conv.get(), std::make_unique<OnednnFloatConv>(conv->weight, conv->bias, type));
    }
}

const OnednnFloatConv &OnednnFloatRunner::packed(const std::string &point, torch::nn::Conv2dImpl &conv) const
{
    auto found = convs_.find(&conv);
    if (found == convs_.end())
        throw std::logic_error("onednn: convolution " + point + " was not prepacked");
    return *found->second;
}

torch::Tensor OnednnFloatRunner::in_type(const torch::Tensor &x) const
{
    return x.to(type_).contiguous(at::MemoryFormat::ChannelsLast);
}

torch::Tensor OnednnFloatRunner::enter(const std::string &, const std::vector<torch::Tensor> &batch)
{
    std::vector<torch::Tensor> parts;
    for (const auto &part : batch)
        parts.push_back(in_type(part));
    return torch::cat(parts, 0);
}

torch::Tensor OnednnFloatRunner::enter_channels(const std::string &, const std::vector<torch::Tensor> &parts)
{
    // Each part converted straight into its channels of the whole: no converted
    // copies to concatenate afterwards.
    return concat_channels(parts, type_);
}

torch::Tensor OnednnFloatRunner::leave(const torch::Tensor &x)
{
    return x.to(torch::kFloat);
}

torch::Tensor OnednnFloatRunner::conv(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    return packed(point, conv).run(x, false, false);
}

torch::Tensor OnednnFloatRunner::conv_leaky(const std::string &point, torch::nn::Conv2dImpl &conv,
                                            const torch::Tensor &x)
{
    return packed(point, conv).run(x, true, false);
}

torch::Tensor OnednnFloatRunner::conv_float(const std::string &point, torch::nn::Conv2dImpl &conv,
                                            const torch::Tensor &x)
{
    return packed(point, conv).run(x, false, true);
}

torch::Tensor OnednnFloatRunner::conv_to_float(torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    return packed("decoder.1", conv).run(x, false, true);
}

std::array<torch::Tensor, 3> OnednnFloatRunner::conv_onto_bases(torch::nn::Conv2dImpl &conv, const torch::Tensor &x,
                                                                const std::array<torch::Tensor, 3> &bases)
{
    return thirds(packed("decoder.1", conv).add_into(x, stacked_bases(bases)));
}

torch::Tensor OnednnFloatRunner::leaky(torch::Tensor x)
{
    return torch::leaky_relu_(x, kLeakySlope);
}

torch::Tensor OnednnFloatRunner::add(const std::string &, const torch::Tensor &a, const torch::Tensor &b)
{
    return a + b;
}

torch::Tensor OnednnFloatRunner::conv_add(const std::string &, const std::string &conv_point,
                                          torch::nn::Conv2dImpl &conv, const torch::Tensor &x,
                                          const torch::Tensor &residual)
{
    return packed(conv_point, conv).add_into(x, residual);
}

torch::Tensor OnednnFloatRunner::warp_three(const std::string &, DeformConv3x3Impl &warp, const torch::Tensor &centre,
                                            const torch::Tensor &to_first, const torch::Tensor &to_last)
{
    // The three written straight into their batch: no concatenation afterwards.
    const int64_t n = centre.size(0);
    auto three = torch::empty({3 * n, centre.size(1), centre.size(2), centre.size(3)},
                              centre.options().memory_format(at::MemoryFormat::ChannelsLast));
    warp.forward_into(centre, to_first, three.narrow(0, 0, n));
    three.narrow(0, n, n).copy_(centre);
    warp.forward_into(centre, to_last, three.narrow(0, 2 * n, n));
    return three;
}

} // namespace dsfn
