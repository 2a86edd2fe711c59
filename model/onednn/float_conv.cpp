#include "onednn/float_conv.h"

#include "onednn/onednn_engine.h"

#include <stdexcept>

#ifdef DSFN_WITH_ONEDNN

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <mutex>
#include <tuple>

#include "net/conv_runner.h"

namespace dsfn {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

// What follows the convolution in the same pass.
enum class Then { Nothing, Leaky, AddToOutput };

// Everything a primitive is made for (onednn_engine.h: threads).
struct Key {
    int64_t n, h, w;
    bool to_float;
    Then then;
    int threads;
    bool operator<(const Key &o) const
    {
        return std::tie(n, h, w, to_float, then, threads) < std::tie(o.n, o.h, o.w, o.to_float, o.then, o.threads);
    }
};

struct Prepared {
    dnnl::convolution_forward::primitive_desc pd;
    dnnl::convolution_forward conv;
    memory weights; // in the layout the implementation chose
};

Type onednn_type(torch::ScalarType type)
{
    if (type == torch::kFloat)
        return Type::f32;
    if (type == torch::kBFloat16)
        return Type::bf16;
    throw std::runtime_error("onednn: a float convolution computes in float32 or bfloat16");
}

} // namespace

struct OnednnFloatConv::State {
    torch::ScalarType type;
    int64_t in_channels, out_channels, kernel;
    torch::Tensor weights; // [out, in, k, k], contiguous, of type
    torch::Tensor bias;    // [out] float32
    memory bias_memory;
    mutable std::mutex mutex;
    mutable PrimitiveCache<Key, Prepared> prepared;

    Prepared make(const Key &key) const
    {
        auto &engine = onednn_cpu_engine();
        const auto compute = onednn_type(type);
        const memory::dims w_dims{out_channels, in_channels, kernel, kernel};
        const memory::desc src_md({key.n, in_channels, key.h, key.w}, compute, Tag::nhwc);
        const memory::desc dst_md({key.n, out_channels, key.h, key.w}, key.to_float ? Type::f32 : compute, Tag::nhwc);
        const memory::desc w_any(w_dims, compute, Tag::any);

        dnnl::primitive_attr attr;
        dnnl::post_ops ops;
        if (key.then == Then::Leaky) // LeakyReLU is the relu eltwise with a negative slope: alpha.
            ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, static_cast<float>(kLeakySlope), 0.f);
        else if (key.then == Then::AddToOutput)
            ops.append_sum(1.f);
        attr.set_post_ops(ops);
        const int64_t pad = kernel / 2;
        dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                             src_md, w_any, bias_memory.get_desc(), dst_md, {1, 1}, {pad, pad},
                                             {pad, pad});
        dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);

        Prepared p{pd, dnnl::convolution_forward(pd), memory(pd.weights_desc(), engine)};
        memory plain({w_dims, compute, Tag::oihw}, engine, weights.data_ptr());
        dnnl::stream stream(engine);
        dnnl::reorder(plain, p.weights).execute(stream, plain, p.weights);
        stream.wait();
        return p;
    }

    void check_input(const torch::Tensor &x) const
    {
        if (x.scalar_type() != type || x.dim() != 4 || x.size(1) != in_channels)
            throw std::logic_error("onednn: a convolution's input is not of its type and width");
    }

    void execute(const torch::Tensor &x, const torch::Tensor &y, bool to_float, Then then) const
    {
        const auto src = x.contiguous(at::MemoryFormat::ChannelsLast);
        const Key key{src.size(0), src.size(2), src.size(3), to_float, then, at::get_num_threads()};
        std::lock_guard<std::mutex> lock(mutex);
        const auto &p = prepared.get(key, [this](const Key &k) { return make(k); });
        auto &engine = onednn_cpu_engine();
        memory src_memory(p.pd.src_desc(), engine, src.data_ptr());
        memory dst_memory(p.pd.dst_desc(), engine, y.data_ptr());
        dnnl::stream stream(engine);
        p.conv.execute(stream, {{DNNL_ARG_SRC, src_memory},
                                {DNNL_ARG_WEIGHTS, p.weights},
                                {DNNL_ARG_BIAS, bias_memory},
                                {DNNL_ARG_DST, dst_memory}});
        stream.wait();
    }
};

OnednnFloatConv::OnednnFloatConv(const torch::Tensor &weight, const torch::Tensor &bias, torch::ScalarType type)
    : state_(std::make_unique<State>())
{
    if (weight.dim() != 4 || weight.size(2) != weight.size(3) || weight.size(2) % 2 == 0)
        throw std::runtime_error("onednn: a convolution must have a square odd kernel, to keep its input's size");
    onednn_type(type);
    torch::NoGradGuard no_grad;
    auto &s = *state_;
    s.type = type;
    s.out_channels = weight.size(0);
    s.in_channels = weight.size(1);
    s.kernel = weight.size(2);
    s.weights = weight.detach().to(torch::kCPU, type).contiguous();
    s.bias = bias.defined() ? bias.detach().to(torch::kCPU, torch::kFloat).contiguous()
                            : torch::zeros({s.out_channels}, torch::kFloat);
    s.bias_memory = memory({{s.out_channels}, Type::f32, Tag::a}, onednn_cpu_engine(), s.bias.data_ptr());
}

OnednnFloatConv::~OnednnFloatConv() = default;

torch::Tensor OnednnFloatConv::run(const torch::Tensor &x, bool leaky, bool to_float) const
{
    // A range of its own in LibTorch's profiler (dsfn-tool profile); nothing when it is off.
    RECORD_FUNCTION("dsfn::float_conv", std::vector<c10::IValue>());
    const auto &s = *state_;
    s.check_input(x);
    auto y = torch::empty({x.size(0), s.out_channels, x.size(2), x.size(3)},
                          torch::dtype(to_float ? torch::kFloat : s.type), at::MemoryFormat::ChannelsLast);
    s.execute(x, y, to_float, leaky ? Then::Leaky : Then::Nothing);
    return y;
}

torch::Tensor OnednnFloatConv::add_into(const torch::Tensor &x, torch::Tensor residual) const
{
    RECORD_FUNCTION("dsfn::float_conv_add", std::vector<c10::IValue>());
    const auto &s = *state_;
    s.check_input(x);
    const bool to_float = residual.scalar_type() == torch::kFloat;
    if ((residual.scalar_type() != s.type && !to_float) || !fits_output(residual, x, s.out_channels))
        throw std::logic_error("onednn: a residual is not the convolution's channels-last output");
    s.execute(x, residual, to_float, Then::AddToOutput);
    return residual;
}

} // namespace dsfn

#else // no direct oneDNN calls in this build

namespace dsfn {

struct OnednnFloatConv::State {};

OnednnFloatConv::OnednnFloatConv(const torch::Tensor &, const torch::Tensor &, torch::ScalarType)
{
    throw std::runtime_error("onednn: this build does not call oneDNN directly (built against a LibTorch with "
                             "its own oneDNN)");
}

OnednnFloatConv::~OnednnFloatConv() = default;

torch::Tensor OnednnFloatConv::run(const torch::Tensor &, bool, bool) const
{
    throw std::logic_error("onednn: no oneDNN in this build");
}

torch::Tensor OnednnFloatConv::add_into(const torch::Tensor &, torch::Tensor) const
{
    throw std::logic_error("onednn: no oneDNN in this build");
}

} // namespace dsfn

#endif
