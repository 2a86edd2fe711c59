#include "tools/conv_cost.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

#include "int8/int8_runner.h"
#include "kernels/map_to_picture.h"
#include "kernels/quantize_u8.h"
#include "onednn/float_runner.h"

namespace dsfn {

std::vector<ConvShape> conv_shapes_per_frame(const NetworkImpl &net)
{
    std::vector<ConvShape> shapes;
    for (const auto &p : net.named_parameters(true)) {
        const auto &name = p.key();
        const auto &w = p.value();
        if (w.dim() != 4 || name.size() < 6 || name.compare(name.size() - 6, 6, "weight") != 0)
            continue;
        ConvShape s{w.size(1), w.size(0), w.size(2), 1, 1};
        if (name.find(".decoder.") != std::string::npos)
            s.batch = 3; // one call on the three outputs stacked
        if (name.find(".warp.") != std::string::npos)
            s.calls = 2; // f1 and f3 are both warped from f2
        shapes.push_back(s);
    }
    return shapes;
}

double conv_flops(const std::vector<ConvShape> &shapes, int64_t h, int64_t w)
{
    double flops = 0;
    for (const auto &s : shapes)
        flops += 2.0 * s.in * s.out * s.kernel * s.kernel * h * w * s.batch * s.calls;
    return flops;
}

double conv_seconds(const std::vector<ConvShape> &shapes, int64_t h, int64_t w, torch::ScalarType type, int repeats)
{
    c10::InferenceMode guard;
    // One input and one weight per distinct shape; the count says how often it runs.
    std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, int64_t> count;
    for (const auto &s : shapes)
        count[{s.in, s.out, s.kernel, s.batch}] += s.calls;

    // Each case runs one convolution of its shape in the precision asked for.
    struct Case {
        std::function<void()> run;
        int64_t calls;
    };
    std::vector<Case> cases;
    const bool int8 = type == torch::kQUInt8;
    const auto activations = quant_params(-4.0, 4.0);
    for (const auto &[key, calls] : count) {
        const auto [in, out, kernel, batch] = key;
        auto opts = torch::TensorOptions().dtype(int8 ? torch::kFloat : type);
        auto input = torch::randn({batch, in, h, w}, opts).contiguous(at::MemoryFormat::ChannelsLast);
        auto weight = torch::randn({out, in, kernel, kernel}, opts).contiguous(at::MemoryFormat::ChannelsLast);
        auto bias = torch::randn({out}, opts);
        if (int8) {
            std::shared_ptr<QuantizedConv> conv = make_quantized_conv(weight, bias);
            auto q = quantize_u8(input, activations);
            cases.push_back({[conv, q, activations] { conv->to_u8(q, activations, false); }, calls});
        } else if (onednn_float_runner_available()) {
            // As precision=fp32 and bf16 run them here (onednn/float_runner.h).
            auto conv = std::make_shared<OnednnFloatConv>(weight, bias, type);
            cases.push_back({[conv, input] { conv->run(input, false, false); }, calls});
        } else {
            const int64_t pad = kernel / 2;
            cases.push_back({[input, weight, bias, pad] { torch::conv2d(input, weight, bias, 1, pad); }, calls});
        }
    }
    auto run_all = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        for (const auto &c : cases)
            for (int64_t i = 0; i < c.calls; i++)
                c.run();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    run_all(); // warm-up: oneDNN picks and caches its kernels
    double best = std::numeric_limits<double>::infinity();
    for (int r = 0; r < std::max(repeats, 1); r++)
        best = std::min(best, run_all());
    return best;
}

namespace {

template <typename Fn>
double best_seconds(int repeats, Fn &&fn)
{
    fn(); // warm-up
    double best = std::numeric_limits<double>::infinity();
    for (int r = 0; r < std::max(repeats, 1); r++) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

} // namespace

FrameTimes time_frame(NetworkImpl &net, int64_t h, int64_t w, int repeats)
{
    c10::InferenceMode guard;
    const auto &arch = net.architecture();
    const auto type = net.parameters().front().scalar_type();
    auto frame = [&] { return torch::rand({1, arch.colors, h, w}).contiguous(at::MemoryFormat::ChannelsLast); };
    const auto b0 = frame(), b1 = frame(), b2 = frame();
    FrameTimes t;
    t.passes = best_seconds(repeats, [&] {
        auto triple = net.level1(b0, b1, b2);
        net.level2(triple, triple);
    });

    const int64_t c = 2 * arch.width;
    auto feat = torch::randn({1, c, h, w}).to(type).contiguous(at::MemoryFormat::ChannelsLast);
    auto offset = torch::randn({1, 18, h, w}).to(type).contiguous(at::MemoryFormat::ChannelsLast);
    auto weight = torch::randn({c, c, 3, 3}).to(type), bias = torch::randn({c}).to(type);
    t.deform = best_seconds(repeats, [&] {
        for (int i = 0; i < 4; i++) // two warps per level, two levels
            deform_conv3x3(feat, offset, weight, bias);
    });

    auto pixels = torch::randint(0, 256, {1, h, w, arch.colors}, torch::kUInt8);
    auto map = torch::rand({1, arch.map_channels(), h, w}).contiguous(at::MemoryFormat::ChannelsLast);
    const int64_t r = arch.scale;
    std::vector<uint8_t> picture(static_cast<size_t>(h * r * w * r * 3));
    const Rgb8Planes rgb24 = {
        {picture.data(), picture.data() + 1, picture.data() + 2}, {w * r * 3, w * r * 3, w * r * 3}, 3};
    t.convert = best_seconds(repeats, [&] {
        pixels.permute({0, 3, 1, 2}).to(torch::kFloat).div_(255.0f).contiguous(at::MemoryFormat::ChannelsLast);
        for (int i = 0; i < 2; i++)
            map_to_rgb8(map, r, rgb24);
    });
    return t;
}

} // namespace dsfn
