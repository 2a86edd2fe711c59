#include "tools/op_profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "dsfn/engine.h"
#include "engine/prepared_network.h"

namespace dsfn {

namespace {

using EngineHandle = std::unique_ptr<DSFNEngine, void (*)(DSFNEngine *)>;

void free_engine(DSFNEngine *engine)
{
    dsfn_engine_free(&engine);
}

void check(int ret, DSFNEngine *engine, const char *what)
{
    if (ret < 0)
        throw std::runtime_error(std::string(what) + ": " + dsfn_engine_error(engine));
}

// Three 8-bit planes of a smooth pattern that moves a pixel a frame, so the
// deformable offsets see motion, as on a video.
struct Picture {
    Picture(int64_t w, int64_t h, int64_t pixels_per_plane)
        : planes(3, std::vector<uint8_t>(static_cast<size_t>(pixels_per_plane)))
    {
        image.width = static_cast<int>(w);
        image.height = static_cast<int>(h);
        image.layout = DSFN_LAYOUT_GBRP;
        for (int i = 0; i < 3; i++) {
            image.data[i] = planes[i].data();
            image.linesize[i] = static_cast<int>(w);
        }
    }
    void draw(int64_t t)
    {
        for (int i = 0; i < 3; i++)
            for (int64_t y = 0; y < image.height; y++)
                for (int64_t x = 0; x < image.width; x++)
                    planes[i][static_cast<size_t>(y * image.width + x)] = static_cast<uint8_t>(
                        127.5 + 100 * std::sin(0.11 * (x + t) + 0.07 * y * (i + 1)) * std::cos(0.05 * (y - t)));
    }
    std::vector<std::vector<uint8_t>> planes;
    DSFNImage image{};
};

// What kind of work an operation is, for the summary.
std::string kind_of(const std::string &name)
{
    auto is = [&](std::initializer_list<const char *> names) {
        return std::any_of(names.begin(), names.end(), [&](const char *n) { return name == n; });
    };
    if (name.find("conv") != std::string::npos)
        return "convolutions (oneDNN, with their reorders)";
    if (name == "dsfn::deform_sampling")
        return "deformable sampling";
    if (name == "dsfn::picture_in" || name == "dsfn::picture_out")
        return "picture conversion (uint8 <-> float, pixel shuffle of the output)";
    if (is({"dsfn::quantize", "dsfn::dequantize", "aten::_empty_affine_quantized", "aten::q_scale",
            "aten::q_zero_point", "aten::int_repr"}))
        return "int8 conversions (float <-> 8 bits)";
    if (is({"quantized::add", "dsfn::residual_sum"}))
        return "element-wise sums, means, scaling";
    if (is({"aten::leaky_relu", "aten::leaky_relu_", "aten::relu", "aten::relu_"}))
        return "activations";
    if (is({"aten::pixel_shuffle", "aten::pixel_unshuffle"}))
        return "pixel shuffles";
    if (is({"dsfn::concat_channels", "aten::copy_", "aten::contiguous", "aten::to", "aten::_to_copy", "aten::clone",
            "aten::cat", "aten::stack", "aten::flip", "aten::repeat", "aten::repeat_interleave",
            "aten::constant_pad_nd", "aten::reflection_pad2d"}))
        return "copies and layout conversions";
    if (is({"aten::add", "aten::add_", "aten::sub", "aten::mul", "aten::mul_", "aten::div", "aten::div_", "aten::mean",
            "aten::sum"}))
        return "element-wise sums, means, scaling";
    if (is({"aten::empty",      "aten::empty_like",     "aten::empty_strided", "aten::zeros",  "aten::view",
            "aten::reshape",    "aten::slice",          "aten::select",        "aten::narrow", "aten::permute",
            "aten::as_strided", "aten::unsqueeze",      "aten::squeeze",       "aten::expand", "aten::detach",
            "aten::resize_",    "aten::_reshape_alias", "aten::unflatten",     "aten::alias",  "aten::chunk",
            "aten::split"}))
        return "allocations and views";
    return "other operations";
}

struct Total {
    int64_t calls = 0;
    double self_us = 0;
};

// Self time per operation name over every thread's events: a range's time less
// the time of the ranges it holds.
std::map<std::string, Total> self_times(const torch::autograd::profiler::thread_event_lists &lists)
{
    using torch::autograd::profiler::EventKind;
    using torch::autograd::profiler::LegacyEvent;
    std::map<std::string, Total> totals;
    for (const auto &events : lists) {
        struct Open {
            const LegacyEvent *push;
            double children_us;
        };
        std::vector<Open> stack;
        for (const auto &e : events) {
            if (e.kind() == EventKind::PushRange) {
                stack.push_back({&e, 0});
            } else if (e.kind() == EventKind::PopRange && !stack.empty()) {
                const Open open = stack.back();
                stack.pop_back();
                const double elapsed = open.push->cpuElapsedUs(e);
                Total &t = totals[open.push->name()];
                t.calls++;
                t.self_us += elapsed - open.children_us;
                if (!stack.empty())
                    stack.back().children_us += elapsed;
            }
        }
    }
    return totals;
}

} // namespace

void print_op_profile(const ProfileRequest &request, std::ostream &out)
{
    DSFNEngineConfig config = dsfn_engine_default_config();
    config.model_path = request.model.c_str();
    config.precision = request.precision;
    config.threads = request.threads;
    config.adapt_threads = 0;
    DSFNEngine *raw = nullptr;
    char err[1024];
    if (dsfn_engine_create(&raw, &config, err, sizeof(err)) < 0)
        throw std::runtime_error(err);
    EngineHandle engine(raw, free_engine);
    const char *why = "";
    const int precision = dsfn_engine_precision(engine.get(), &why);
    const int64_t w = request.width, h = request.height, scale = dsfn_engine_scale(engine.get());
    Picture in(w, h, w * h);
    Picture result(w * scale, h * scale, w * h * scale * scale);

    int64_t t = 0;
    int64_t outputs = 0;
    auto frame = [&] { // one input frame sent, and every output it allows received
        in.draw(t++);
        check(dsfn_engine_send(engine.get(), &in.image), engine.get(), "send");
        int ready;
        while ((ready = dsfn_engine_output_ready(engine.get())) > 0) {
            DSFNOutputInfo info;
            check(dsfn_engine_receive(engine.get(), &result.image, &info), engine.get(), "receive");
            outputs++;
        }
        check(ready, engine.get(), "pass");
    };
    for (int i = 0; i < 4; i++) // the window fills; oneDNN makes its primitives
        frame();
    // The same frames without the profiler, for its cost.
    auto bare_start = std::chrono::steady_clock::now();
    for (int i = 0; i < request.frames; i++)
        frame();
    const double bare_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - bare_start).count();

    using namespace torch::autograd::profiler;
    outputs = 0;
    const auto start = std::chrono::steady_clock::now();
    enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
    try {
        for (int i = 0; i < request.frames; i++)
            frame();
    } catch (...) {
        disableProfilerLegacy();
        throw;
    }
    const auto lists = disableProfilerLegacy();
    const double wall_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    const auto totals = self_times(lists);

    const double frames = request.frames;
    char line[256];
    out << request.model << ", " << w << "x" << h << " -> " << w * scale << "x" << h * scale << ", "
        << precision_name(precision) << (*why ? std::string(" (auto: ") + why + ")" : std::string()) << ", "
        << request.threads << (request.threads == 1 ? " thread; " : " threads; ") << request.frames
        << " frames profiled (" << outputs << " outputs)\n";
    std::snprintf(line, sizeof(line), "wall time per input frame: %.1f ms with the profiler, %.1f ms without\n\n",
                  wall_us / frames / 1000, bare_us / frames / 1000);
    out << line;

    std::map<std::string, double> kinds;
    double attributed = 0;
    std::vector<std::pair<std::string, Total>> ops(totals.begin(), totals.end());
    std::sort(ops.begin(), ops.end(), [](const auto &a, const auto &b) { return a.second.self_us > b.second.self_us; });
    for (const auto &[name, total] : ops) {
        kinds[kind_of(name)] += total.self_us;
        attributed += total.self_us;
    }
    kinds["outside any operation (the engine's own code, the profiler)"] += std::max(0.0, wall_us - attributed);

    out << "by kind                                                              ms/frame   share\n";
    std::vector<std::pair<std::string, double>> sorted(kinds.begin(), kinds.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto &a, const auto &b) { return a.second > b.second; });
    for (const auto &[kind, us] : sorted) {
        std::snprintf(line, sizeof(line), "  %-66s %8.2f  %5.1f%%\n", kind.c_str(), us / frames / 1000,
                      100 * us / wall_us);
        out << line;
    }
    out << "\nby operation (self time), the first 25                              calls/frame ms/frame   share\n";
    for (size_t i = 0; i < ops.size() && i < 25; i++) {
        std::snprintf(line, sizeof(line), "  %-58s %9.1f %8.2f  %5.1f%%\n", ops[i].first.c_str(),
                      ops[i].second.calls / frames, ops[i].second.self_us / frames / 1000,
                      100 * ops[i].second.self_us / wall_us);
        out << line;
    }
}

} // namespace dsfn
