#include "int8/onednn_conv.h"

#include <stdexcept>

#ifdef DSFN_WITH_ONEDNN

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <mutex>
#include <tuple>
#include <vector>

#include "net/conv_runner.h"

namespace dsfn {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

// Everything a primitive is made for: the input's size and quantization, the output's.
struct Key {
    int64_t n, h, w;
    double in_scale;
    int64_t in_zero;
    bool to_float;
    double out_scale;
    int64_t out_zero;
    bool leaky;
    bool add;    // onto the output's buffer (a sum post-op)
    int threads; // onednn_engine.h
    bool operator<(const Key &o) const
    {
        return std::tie(n, h, w, in_scale, in_zero, to_float, out_scale, out_zero, leaky, add, threads) <
               std::tie(o.n, o.h, o.w, o.in_scale, o.in_zero, o.to_float, o.out_scale, o.out_zero, o.leaky, o.add,
                        o.threads);
    }
};

struct Prepared {
    dnnl::convolution_forward::primitive_desc pd;
    dnnl::convolution_forward conv;
    memory weights; // in the layout the implementation chose
    memory bias;    // in accumulator units (see make())
};

} // namespace

struct OnednnConv::State {
    int64_t in_channels, out_channels, kernel;
    std::vector<int8_t> weights;     // [out, in, k, k], symmetric 8 bits
    std::vector<float> weight_scale; // per output channel
    std::vector<float> bias;         // float32, zeros when the convolution has none
    mutable std::mutex mutex;
    mutable PrimitiveCache<Key, Prepared> prepared;

    Prepared make(const Key &key) const
    {
        auto &engine = onednn_cpu_engine();
        const memory::dims src_dims{key.n, in_channels, key.h, key.w};
        const memory::dims dst_dims{key.n, out_channels, key.h, key.w};
        const memory::dims w_dims{out_channels, in_channels, kernel, kernel};
        const memory::desc src_md(src_dims, Type::u8, Tag::nhwc);
        const memory::desc dst_md(dst_dims, key.to_float ? Type::f32 : Type::u8, Tag::nhwc);
        const memory::desc w_any(w_dims, Type::s8, Tag::any);
        const memory::desc bias_md({out_channels}, Type::f32, Tag::a);

        // dst = scale[c] * (sum((src - zero_src) * w) + bias') [post-op] + zero_dst, rounded:
        // oneDNN adds an int8 convolution's bias to the integer sums, before
        // the output scale, so the float bias is given in the sums' units.
        const double out_step = key.to_float ? 1.0 : key.out_scale;
        std::vector<float> scales(out_channels);
        std::vector<float> bias_units(out_channels);
        for (int64_t c = 0; c < out_channels; c++) {
            const double unit = key.in_scale * weight_scale[c];
            scales[c] = static_cast<float>(unit / out_step);
            bias_units[c] = static_cast<float>(bias[c] / unit);
        }
        dnnl::primitive_attr attr;
        attr.set_output_scales(1 << 1, scales);
        attr.set_zero_points(DNNL_ARG_SRC, 0, {static_cast<int32_t>(key.in_zero)});
        if (!key.to_float)
            attr.set_zero_points(DNNL_ARG_DST, 0, {static_cast<int32_t>(key.out_zero)});
        dnnl::post_ops ops;
        if (key.leaky) // LeakyReLU is the relu eltwise with a negative slope: alpha.
            ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, static_cast<float>(kLeakySlope), 0.f);
        if (key.add) // dst = the above + dst before
            ops.append_sum(1.f);
        attr.set_post_ops(ops);
        const int64_t pad = kernel / 2;
        dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                             src_md, w_any, bias_md, dst_md, {1, 1}, {pad, pad}, {pad, pad});
        dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);

        Prepared p{pd, dnnl::convolution_forward(pd), memory(pd.weights_desc(), engine), memory(bias_md, engine)};
        memory plain({w_dims, Type::s8, Tag::oihw}, engine, const_cast<int8_t *>(weights.data()));
        dnnl::stream stream(engine);
        dnnl::reorder(plain, p.weights).execute(stream, plain, p.weights);
        stream.wait();
        std::copy(bias_units.begin(), bias_units.end(), static_cast<float *>(p.bias.get_data_handle()));
        return p;
    }

    static void check_input(const torch::Tensor &x, int64_t channels)
    {
        if (x.scalar_type() != torch::kQUInt8 || x.dim() != 4 || x.size(1) != channels)
            throw std::logic_error("int8: a convolution's input is not 8-bit activations of its width");
    }

    torch::Tensor run(const torch::Tensor &x_in, bool to_float, const QuantParams &out, bool leaky) const
    {
        // A range of its own in LibTorch's profiler (dsfn-tool profile); nothing when it is off.
        RECORD_FUNCTION(to_float ? "dsfn::int8_conv_to_float" : "dsfn::int8_conv", std::vector<c10::IValue>());
        check_input(x_in, in_channels);
        const std::vector<int64_t> sizes{x_in.size(0), out_channels, x_in.size(2), x_in.size(3)};
        const auto last = at::MemoryFormat::ChannelsLast;
        auto y = to_float ? torch::empty(sizes, torch::dtype(torch::kFloat), last)
                          : at::_empty_affine_quantized(sizes, torch::dtype(torch::kQUInt8), out.scale, out.zero_point,
                                                        last);
        execute(x_in, y, to_float, out, leaky, false);
        return y;
    }

    void add_float_into(const torch::Tensor &x_in, const torch::Tensor &sums) const
    {
        RECORD_FUNCTION("dsfn::int8_conv_add_float", std::vector<c10::IValue>());
        check_input(x_in, in_channels);
        if (sums.scalar_type() != torch::kFloat || !fits_output(sums, x_in, out_channels))
            throw std::logic_error("int8: the sums are not the convolution's float32 channels-last output");
        execute(x_in, sums, true, QuantParams{}, false, true);
    }

    // y = the convolution of x_in, or with add y + it.
    void execute(const torch::Tensor &x_in, const torch::Tensor &y, bool to_float, const QuantParams &out, bool leaky,
                 bool add) const
    {
        const auto x = x_in.contiguous(at::MemoryFormat::ChannelsLast);
        const Key key{x.size(0),
                      x.size(2),
                      x.size(3),
                      x.q_scale(),
                      x.q_zero_point(),
                      to_float,
                      to_float ? 1.0 : out.scale,
                      to_float ? 0 : out.zero_point,
                      leaky,
                      add,
                      at::get_num_threads()};
        std::lock_guard<std::mutex> lock(mutex);
        const auto &p = prepared.get(key, [this](const Key &k) { return make(k); });
        auto &engine = onednn_cpu_engine();
        memory src(p.pd.src_desc(), engine, x.data_ptr());
        memory dst(p.pd.dst_desc(), engine, y.data_ptr());
        dnnl::stream stream(engine);
        p.conv.execute(
            stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_BIAS, p.bias}, {DNNL_ARG_DST, dst}});
        stream.wait();
    }
};

OnednnConv::OnednnConv(const torch::Tensor &weight, const torch::Tensor &bias) : state_(std::make_unique<State>())
{
    if (weight.dim() != 4 || weight.size(2) != weight.size(3) || weight.size(2) % 2 == 0)
        throw std::runtime_error("int8: a convolution must have a square odd kernel, to keep its input's size");
    torch::NoGradGuard no_grad;
    auto q = quantize_weight_per_channel(weight);
    auto &s = *state_;
    s.out_channels = weight.size(0);
    s.in_channels = weight.size(1);
    s.kernel = weight.size(2);
    auto values = q.int_repr().contiguous();
    s.weights.assign(values.data_ptr<int8_t>(), values.data_ptr<int8_t>() + values.numel());
    auto scales = q.q_per_channel_scales().to(torch::kFloat).contiguous();
    s.weight_scale.assign(scales.data_ptr<float>(), scales.data_ptr<float>() + scales.numel());
    s.bias.assign(s.out_channels, 0.f);
    if (bias.defined()) {
        auto b = bias.detach().to(torch::kFloat).contiguous();
        std::copy(b.data_ptr<float>(), b.data_ptr<float>() + b.numel(), s.bias.begin());
    }
}

OnednnConv::~OnednnConv() = default;

torch::Tensor OnednnConv::to_u8(const torch::Tensor &x, const QuantParams &out, bool leaky) const
{
    return state_->run(x, false, out, leaky);
}

torch::Tensor OnednnConv::to_float(const torch::Tensor &x, const QuantParams &) const
{
    return state_->run(x, true, QuantParams{}, false);
}

torch::Tensor OnednnConv::add_float_into(const torch::Tensor &x, const QuantParams &, torch::Tensor sums) const
{
    state_->add_float_into(x, sums);
    return sums;
}

} // namespace dsfn

#else // no oneDNN in this build

namespace dsfn {

struct OnednnConv::State {};

OnednnConv::OnednnConv(const torch::Tensor &, const torch::Tensor &)
{
    throw std::runtime_error("int8: this build does not call oneDNN directly (built against a LibTorch with "
                             "its own oneDNN)");
}

OnednnConv::~OnednnConv() = default;

torch::Tensor OnednnConv::to_u8(const torch::Tensor &, const QuantParams &, bool) const
{
    throw std::logic_error("int8: no oneDNN in this build");
}

torch::Tensor OnednnConv::to_float(const torch::Tensor &, const QuantParams &) const
{
    throw std::logic_error("int8: no oneDNN in this build");
}

torch::Tensor OnednnConv::add_float_into(const torch::Tensor &, const QuantParams &, torch::Tensor) const
{
    throw std::logic_error("int8: no oneDNN in this build");
}

} // namespace dsfn

#endif
