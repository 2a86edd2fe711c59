#include "engine/stream_engine.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>

#include "engine/engine_config.h"
#include "engine/engine_error.h"
#include "engine/picture_io.h"
#include "engine/precision_cache.h"
#include "engine/precision_choice.h"
#include "engine/prepared_network.h"
#include "engine/tile_plan.h"
#include "engine/yuv_picture.h"

using dsfn::EngineError;

namespace {

// Adds the wall-clock time of its scope to a stats field.
class StageTimer {
public:
    explicit StageTimer(double &total) : total(total), start(std::chrono::steady_clock::now()) {}
    ~StageTimer() { total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); }
    StageTimer(const StageTimer &) = delete;
    StageTimer &operator=(const StageTimer &) = delete;

private:
    double &total;
    std::chrono::steady_clock::time_point start;
};

// Runs the work of its scope (loading the model) on the calling thread alone.
// FFmpeg creates filters on its main thread and runs them on a filter thread; an
// OpenMP team started on the main thread as well made libgomp manage more threads
// than there are cores, and then it puts threads to sleep at every barrier
// instead of spinning, a tenth of the time or more (bench/REPORT.md).
class SerialScope {
public:
    SerialScope() : saved_(at::get_num_threads()) { at::set_num_threads(1); }
    ~SerialScope() { at::set_num_threads(saved_); }
    SerialScope(const SerialScope &) = delete;
    SerialScope &operator=(const SerialScope &) = delete;

private:
    int saved_;
};

} // namespace

DSFNEngine::DSFNEngine(const DSFNEngineConfig &config)
    : place(dsfn::parse_device(config.device ? config.device : "cpu")), device(place.device()),
      with_between(config.with_between != 0)
{
    dsfn::check_config(config);
    if (config.precision == DSFN_PRECISION_FP16 && !place.on_gpu())
        throw EngineError(EINVAL, "precision fp16 needs device=cuda (on a CPU, bf16 is the fast one)");
    if (config.precision == DSFN_PRECISION_INT8 && place.on_gpu())
        throw EngineError(EINVAL, "precision int8 runs on the CPU only (on a GPU, bf16 or fp16 is the fast one)");
    ensemble = config.ensemble ? config.ensemble : 1;
    edge = config.edge_mirror;
    tile_option = config.tile;
    overlap_option = overlap = config.overlap;
    threads = config.threads;
    core_share = dsfn::CoreShare(threads, config.adapt_threads != 0 && !place.on_gpu());
    stats.threads = threads;
    const auto on_device = place.enter();
    memory_budget = config.max_memory > 0 ? config.max_memory : dsfn::default_memory_budget();
    const SerialScope serial; // the passes set their thread count (use_threads)
    if (config.precision == DSFN_PRECISION_AUTO) {
        auto choice = dsfn::choose_precision(config.model_path, place, dsfn::PrecisionCache::default_path());
        net = choice.net;
        precision_ = choice.precision;
        precision_reason_ = std::move(choice.reason);
    } else {
        net = dsfn::load_prepared_network(config.model_path, device, config.precision);
        precision_ = config.precision;
    }
    // int8 keeps its float temporaries (the warp, the decoder's output) at 4 bytes.
    const bool half = precision_ == DSFN_PRECISION_BF16 || precision_ == DSFN_PRECISION_FP16;
    const int64_t compute_bytes = half ? 2 : 4;
    memory = std::make_unique<dsfn::MemoryModel>(net->architecture(), compute_bytes, ensemble);
    if (place.on_gpu()) {
        // Every segment's passes have one input size: let cuDNN time its
        // algorithms once per size and keep the fastest (a process-wide setting),
        // unless every process must choose the same ones.
        at::globalContext().setBenchmarkCuDNN(config.deterministic == 0);
        if (config.deterministic)
            at::globalContext().setDeterministicCuDNN(true);
        if (config.max_memory <= 0) // 0: unknown, tiles only when asked
            memory_budget = dsfn::device_memory_budget(place.free_bytes());
    }
    dsfn_window_reset(&window);
}

// LibTorch's thread count is per calling thread (OpenMP), and FFmpeg may
// call from threads other than the one that created the engine. Fewer than
// `threads` while other work holds cores (core_share.h).
void DSFNEngine::use_threads()
{
    if (threads <= 0)
        return;
    const int n = core_share.threads();
    if (at::get_num_threads() != n)
        at::set_num_threads(n);
    stats.threads = n;
    stats.others_busy = core_share.others();
}

void DSFNEngine::send(const DSFNImage &image)
{
    dsfn::check_image(image);
    dsfn::memory_of(image, place); // before the segment's state changes
    if (window.ended) {
        // Finish the previous segment (its outputs stay queued), then start anew.
        c10::InferenceMode guard;
        use_threads();
        while (run_step()) {
        }
        segment_start += window.received;
        dsfn_window_reset(&window);
        frames.clear();
        triples.clear();
        frames_base = triples_base = 0;
        pending_keyframe = torch::Tensor();
    }
    if (window.received == 0) {
        start_segment(image.height, image.width);
    } else if (image.width != picture_w || image.height != picture_h) {
        throw EngineError(EINVAL, "picture size changed from " + std::to_string(picture_w) + "x" +
                                      std::to_string(picture_h) + " to " + std::to_string(image.width) + "x" +
                                      std::to_string(image.height) + " within a segment");
    }
    c10::InferenceMode guard;
    StageTimer timer(stats.input_seconds);
    frames.push_back(dsfn::read_picture(image, place, edge));
    window.received++;
    stats.frames_in++;
}

// A segment's tiles (tile_plan.h), and the blocks kept for its passes: every pass
// allocates what the pass before it freed, so the block cache keeps as much as a
// pass and the state between passes take, and none of it is faulted in again.
void DSFNEngine::start_segment(int64_t h, int64_t w)
{
    if (w != picture_w || h != picture_h)
        memory_policy.forget_blocks(); // kept for pictures of another size
    dsfn::TileRequest request;
    request.picture_h = h;
    request.picture_w = w;
    request.edge = edge;
    request.tile = tile_option;
    request.overlap = overlap_option;
    request.budget = memory_budget;
    request.on_gpu = !device.is_cpu();
    const dsfn::TilePlan plan = dsfn::plan_tiles(request, *memory);
    tile = plan.tile;
    overlap = plan.overlap;
    tile_grown = plan.grown;
    picture_w = static_cast<int>(w);
    picture_h = static_cast<int>(h);
    memory_policy.keep_for_passes(static_cast<size_t>(dsfn::planned_bytes(request, plan, *memory)));
}

// One level pass over the whole picture, or tile by tile: each tile reads its
// inputs with `overlap` pixels of context and keeps only its own part of the
// three output maps, so the seams see (nearly) what a whole-picture pass sees.
// Each tile's pass is the mean of `ensemble` copies (flip_ensemble.h).
dsfn::Maps3 DSFNEngine::run_tiled(const std::vector<torch::Tensor> &inputs, bool packed_inputs, const dsfn::Pass &pass)
{
    const int64_t h = inputs[0].size(2), w = inputs[0].size(3), scale = net->architecture().scale;
    if (!tile)
        return dsfn::flip_ensemble(inputs, packed_inputs, ensemble, scale, pass);
    dsfn::Maps3 out;
    const auto tiles = dsfn::make_tiles(h, w, tile, overlap);
    for (const dsfn::Tile &t : tiles) {
        std::vector<torch::Tensor> part;
        for (const auto &x : inputs)
            part.push_back(x.slice(2, t.ry0, t.ry1).slice(3, t.rx0, t.rx1));
        auto maps = dsfn::flip_ensemble(part, packed_inputs, ensemble, scale, pass);
        for (int i = 0; i < 3; i++) {
            if (!out[i].defined())
                out[i] = torch::empty({maps[i].size(0), maps[i].size(1), h, w}, maps[i].options())
                             .contiguous(at::MemoryFormat::ChannelsLast);
            out[i]
                .slice(2, t.y0, t.y1)
                .slice(3, t.x0, t.x1)
                .copy_(maps[i].slice(2, t.y0 - t.ry0, t.y1 - t.ry0).slice(3, t.x0 - t.rx0, t.x1 - t.rx0));
        }
    }
    stats.tiles += static_cast<int64_t>(tiles.size());
    return out;
}

void DSFNEngine::run_level1(const DSFNStep &step)
{
    StageTimer timer(stats.level1_seconds);
    auto frame = [&](int64_t i) { return frames.at(static_cast<size_t>(i - frames_base)); };
    triples.push_back(run_tiled({frame(step.frame[0]), frame(step.frame[1]), frame(step.frame[2])}, false,
                                [&](const std::vector<torch::Tensor> &x) { return net->level1(x[0], x[1], x[2]); }));
    stats.level1_passes++;
}

void DSFNEngine::run_level2(const DSFNStep &step)
{
    StageTimer timer(stats.level2_seconds);
    const auto k = static_cast<size_t>(step.index - triples_base);
    const auto &a = triples.at(k), &b = triples.at(k + 1);
    auto maps = run_tiled({a[0], a[1], a[2], b[0], b[1], b[2]}, true, [&](const std::vector<torch::Tensor> &x) {
        return net->level2({x[0], x[1], x[2]}, {x[3], x[4], x[5]});
    });
    stats.level2_passes++;

    // Keyframe k: mean of the estimates of windows k-1 and k (only window k for the first).
    auto keyframe = pending_keyframe.defined() ? (pending_keyframe + maps[0]) * 0.5 : maps[0];
    outputs.push_back({keyframe, {segment_start + step.index, 0}});
    // The segment's last window has frame k alone (the window repeats it past a
    // cut or the end of the stream): its in-between frame is keyframe k itself.
    const bool last = window.ended && step.index == window.received - 1;
    if (with_between)
        outputs.push_back({last ? keyframe : maps[1], {segment_start + step.index, 1}});
    pending_keyframe = maps[2];
}

void DSFNEngine::release_unneeded()
{
    while (frames_base < dsfn_window_oldest_needed_frame(&window) && !frames.empty()) {
        frames.pop_front();
        frames_base++;
    }
    while (triples_base < dsfn_window_oldest_needed_triple(&window) && !triples.empty()) {
        triples.pop_front();
        triples_base++;
    }
}

// Runs the next pass the window allows; false when none can run now.
bool DSFNEngine::run_step()
{
    const DSFNStep step = dsfn_window_next(&window);
    if (step.type == DSFN_STEP_LEVEL1)
        run_level1(step);
    else if (step.type == DSFN_STEP_LEVEL2)
        run_level2(step);
    else
        return false;
    dsfn_window_done(&window, &step);
    release_unneeded();
    return true;
}

bool DSFNEngine::output_ready()
{
    c10::InferenceMode guard;
    use_threads();
    while (outputs.empty() && run_step()) {
    }
    return !outputs.empty();
}

void DSFNEngine::receive(DSFNImage &image, DSFNOutputInfo &info)
{
    if (!output_ready())
        throw EngineError(EAGAIN, "no output ready");
    dsfn::check_image(image);
    c10::InferenceMode guard;
    StageTimer timer(stats.output_seconds);
    dsfn::write_picture(outputs.front().map, edge, net->architecture().scale, place, image);
    info = outputs.front().info;
    outputs.pop_front();
    stats.frames_out++;
}

double DSFNEngine::picture_difference(const DSFNImage &a, const DSFNImage &b) const
{
    dsfn::check_image(a);
    dsfn::check_image(b);
    if (a.layout != b.layout || a.width != b.width || a.height != b.height || a.memory != b.memory)
        throw EngineError(EINVAL, "pictures of different layouts, sizes or memories cannot be compared");
    c10::InferenceMode guard;
    return dsfn::picture_difference(a, b, dsfn::memory_of(a, place));
}

DSFNEngineStats DSFNEngine::current_stats() const
{
    DSFNEngineStats s = stats;
    s.tile = static_cast<int>(tile);
    s.tile_grown = tile_grown;
    s.overlap = static_cast<int>(overlap);
    return s;
}
