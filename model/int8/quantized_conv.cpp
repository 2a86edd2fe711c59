#include "int8/quantized_conv.h"

#include <torch/version.h>

#include "int8/onednn_conv.h"
#include "net/conv_runner.h"

#include <algorithm>
#include <stdexcept>

namespace dsfn {

namespace {

using Stack = std::vector<c10::IValue>;

c10::IValue call(const c10::OperatorHandle &op, Stack stack)
{
    op.callBoxed(&stack);
    return std::move(stack.at(0));
}

c10::OperatorHandle find_op(const char *name, const char *overload)
{
    auto op = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!op)
        throw std::runtime_error(std::string("this LibTorch has no ") + name + ": it cannot run precision int8");
    return *op;
}

} // namespace

torch::Tensor quantize_weight_per_channel(const torch::Tensor &weight)
{
    auto w = weight.detach().to(torch::kFloat).contiguous();
    auto scales = w.abs().amax({1, 2, 3}).div(127.0).to(torch::kDouble);
    scales = torch::where(scales > 0, scales, torch::ones_like(scales));
    return torch::quantize_per_channel(w, scales, torch::zeros({w.size(0)}, torch::kLong), 0, torch::kQInt8);
}

std::string select_int8_engine()
{
    const auto &supported = at::globalContext().supportedQEngines();
    auto has = [&](at::QEngine engine) {
        return std::find(supported.begin(), supported.end(), engine) != supported.end();
    };
    std::vector<at::QEngine> preferred;
#if TORCH_VERSION_MAJOR >= 2
    preferred.push_back(at::QEngine::X86); // FBGEMM or oneDNN, whichever suits the shape
#endif
    preferred.push_back(at::QEngine::FBGEMM);
    preferred.push_back(at::QEngine::ONEDNN);
    for (auto engine : preferred) {
        if (has(engine)) {
            at::globalContext().setQEngine(engine);
            return c10::toString(engine);
        }
    }
    throw std::runtime_error("this LibTorch has no quantized x86 engine (FBGEMM or oneDNN): it cannot run "
                             "precision int8");
}

TorchQuantizedConv::TorchQuantizedConv(const torch::Tensor &weight, const torch::Tensor &bias)
    : op_(find_op("quantized::conv2d", "new"))
{
    select_int8_engine();
    if (weight.dim() != 4 || weight.size(2) % 2 == 0 || weight.size(3) % 2 == 0)
        throw std::runtime_error("int8: a convolution must have an odd kernel, to keep its input's size");
    torch::NoGradGuard no_grad;
    c10::optional<torch::Tensor> b;
    if (bias.defined())
        b = bias.detach().to(torch::kFloat).contiguous();
    auto list = [](int64_t y, int64_t x) { return c10::List<int64_t>({y, x}); };
    packed_ = call(find_op("quantized::conv2d_prepack", ""),
                   {quantize_weight_per_channel(weight), b, list(1, 1), list(weight.size(2) / 2, weight.size(3) / 2),
                    list(1, 1), int64_t{1}});
}

torch::Tensor TorchQuantizedConv::to_u8(const torch::Tensor &x, const QuantParams &out, bool leaky) const
{
    auto y = call(op_, {x, packed_, out.scale, out.zero_point}).toTensor();
    // On 8 bits, LeakyReLU keeps its input's scale and zero point.
    return leaky ? torch::leaky_relu(y, kLeakySlope) : y;
}

torch::Tensor TorchQuantizedConv::to_float(const torch::Tensor &x, const QuantParams &out) const
{
    return dequantize_u8(to_u8(x, out, false));
}

std::unique_ptr<QuantizedConv> make_quantized_conv(const torch::Tensor &weight, const torch::Tensor &bias)
{
    if (onednn_available())
        return std::make_unique<OnednnConv>(weight, bias);
    return std::make_unique<TorchQuantizedConv>(weight, bias);
}

std::string quantized_conv_backend()
{
    if (onednn_available())
        return onednn_version();
    return "LibTorch " + select_int8_engine();
}

} // namespace dsfn
