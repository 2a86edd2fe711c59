#include "int8/int8_runner.h"

#include <torch/version.h>

#include "int8/range_observer.h"

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

// Symmetric signed 8 bits per output channel: the largest weight of a channel
// maps to 127. A channel of zeros gets scale 1 (any scale stores it exactly).
torch::Tensor quantize_weight(const torch::Tensor &weight)
{
    auto w = weight.detach().to(torch::kFloat).contiguous();
    auto scales = w.abs().amax({1, 2, 3}).div(127.0).to(torch::kDouble);
    scales = torch::where(scales > 0, scales, torch::ones_like(scales));
    return torch::quantize_per_channel(w, scales, torch::zeros({w.size(0)}, torch::kLong), 0, torch::kQInt8);
}

} // namespace

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

Int8Conv::Int8Conv(const torch::Tensor &weight, const torch::Tensor &bias) : op_(find_op("quantized::conv2d", "new"))
{
    select_int8_engine();
    if (weight.dim() != 4 || weight.size(2) % 2 == 0 || weight.size(3) % 2 == 0)
        throw std::runtime_error("int8: a convolution must have an odd kernel, to keep its input's size");
    torch::NoGradGuard no_grad;
    c10::optional<torch::Tensor> b;
    if (bias.defined())
        b = bias.detach().to(torch::kFloat).contiguous();
    auto list = [](int64_t y, int64_t x) { return c10::List<int64_t>({y, x}); };
    packed_ = call(
        find_op("quantized::conv2d_prepack", ""),
        {quantize_weight(weight), b, list(1, 1), list(weight.size(2) / 2, weight.size(3) / 2), list(1, 1), int64_t{1}});
}

torch::Tensor Int8Conv::operator()(const torch::Tensor &x, const QuantParams &out) const
{
    return call(op_, {x, packed_, out.scale, out.zero_point}).toTensor();
}

std::vector<std::string> int8_points(NetworkImpl &net)
{
    // Exactly the points the graph visits: a float32 pass over a tiny input, observed.
    class Restore {
    public:
        explicit Restore(NetworkImpl &net) : net_(net), saved_(net.shared_conv_runner()) {}
        ~Restore() { net_.run_convs_with(saved_); }
        Restore(const Restore &) = delete;
        Restore &operator=(const Restore &) = delete;

    private:
        NetworkImpl &net_;
        std::shared_ptr<ConvRunner> saved_;
    } restore(net);
    torch::NoGradGuard no_grad;
    auto observer = std::make_shared<RangeObserver>();
    net.run_convs_with(observer);
    const auto x = torch::zeros({1, net.architecture().colors, 8, 8});
    const auto level1 = net.level1(x, x, x);
    net.level2(level1, level1);
    std::vector<std::string> points;
    for (const auto &point : observer->ranges())
        points.push_back(point.first);
    return points;
}

Int8Runner::Int8Runner(NetworkImpl &net, const ActivationRanges &ranges, const std::string &ranges_path)
{
    select_int8_engine();
    for (const auto &point : int8_points(net)) {
        auto found = ranges.points.find(point);
        if (found == ranges.points.end())
            throw std::runtime_error(ranges_path + ": no range for " + point + " (made for another network?)");
        points_.emplace(point, quant_params(found->second.lo, found->second.hi));
    }
    for (const auto &m : net.named_modules("", false)) {
        auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(m.value());
        if (!conv || !points_.count(m.key()))
            continue; // not a convolution, or one that runs in float32 (conv_to_float)
        // Every convolution of the network keeps its input's size (conv3x3 in dsfn_net.cpp).
        const auto &o = conv->options;
        if ((*o.stride())[0] != 1 || (*o.stride())[1] != 1 || (*o.dilation())[0] != 1 || (*o.dilation())[1] != 1 ||
            o.groups() != 1)
            throw std::runtime_error("int8: convolution " + m.key() + " is not a plain one");
        convs_.emplace(conv.get(), PackedConv{Int8Conv(conv->weight, conv->bias), params(m.key())});
    }
}

const QuantParams &Int8Runner::params(const std::string &point) const
{
    auto found = points_.find(point);
    if (found == points_.end())
        throw std::logic_error("int8: no quantization parameters for " + point);
    return found->second;
}

torch::Tensor Int8Runner::enter(const std::string &point, const std::vector<torch::Tensor> &batch)
{
    return quantize_u8(batch, params(point));
}

torch::Tensor Int8Runner::leave(const torch::Tensor &x)
{
    return x.is_quantized() ? dequantize_u8(x) : x;
}

torch::Tensor Int8Runner::conv_to_float(torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    return conv.forward(leave(x));
}

torch::Tensor Int8Runner::conv(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    auto found = convs_.find(&conv);
    if (found == convs_.end())
        throw std::logic_error("int8: convolution " + point + " was not prepacked");
    return found->second.conv(x.is_quantized() ? x : bytes_of(x, point), found->second.output);
}

void Int8Runner::remember(const torch::Tensor &value, torch::Tensor bytes)
{
    twins_.erase(std::remove_if(twins_.begin(), twins_.end(), [](const Twin &t) { return t.value.expired(); }),
                 twins_.end());
    twins_.push_back({Twin::Weak(value.getIntrusivePtr()), std::move(bytes)});
}

const torch::Tensor &Int8Runner::bytes_of(const torch::Tensor &value, const std::string &point) const
{
    for (const auto &t : twins_)
        if (t.value.lock().get() == value.unsafeGetTensorImpl())
            return t.bytes;
    throw std::logic_error("int8: convolution " + point + " got a float input that is not a residual sum");
}

torch::Tensor Int8Runner::leaky(torch::Tensor x)
{
    // On 8 bits, LeakyReLU keeps its input's scale and zero point.
    return torch::leaky_relu(x, kLeakySlope);
}

torch::Tensor Int8Runner::add(const std::string &point, const torch::Tensor &a, const torch::Tensor &b)
{
    auto sum = residual_sum_u8(a, b, params(point));
    remember(sum.value, std::move(sum.bytes));
    return sum.value;
}

} // namespace dsfn
