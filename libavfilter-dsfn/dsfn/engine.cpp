// The DSFN engine: runs the network on a stream of pictures, one DSFN1 pass per
// triple and one DSFN2 pass per window (see window.h), behind the C API of
// engine.h. No exception leaves this file.
#include "engine.h"
#include "dsfn/core_share.h"

#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "device_stream.h"
#include "net/dsfn_net.h"
#include "flip_ensemble.h"
#include "kernels/malloc_policy.h"
#include "kernels/map_to_picture.h"
#include "net/mirror_edges.h"
#include "net/weights_file.h"
#include "window.h"

namespace {

struct EngineError : std::runtime_error {
    EngineError(int code, const std::string &msg) : std::runtime_error(msg), code(code) {}
    int code;
};

struct Output {
    torch::Tensor map; // [1, r^2 C, H, W]
    DSFNOutputInfo info;
};

// Memory one pass may use when the caller sets no limit: 80% of what the
// system reports available now (MemAvailable), else of physical memory.
double default_memory_budget()
{
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    double kib = 0;
    while (meminfo >> key >> kib)
        if (key == "MemAvailable:")
            return 0.8 * kib * 1024;
    return 0.8 * static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
}

// Peak memory of one pass over an h x w picture, measured with `time -v` on
// this engine: about 350 bytes per input pixel per unit of model width, plus
// headroom. (Measured when the deformable convolution's im2col was built whole;
// in bands it needs less, but freed memory now stays in the process, and peak
// RSS at 320x180 stayed within 10%: bench/REPORT.md.)
// An ensemble of copies (flip_ensemble.h) holds besides a flipped copy of the
// inputs (up to six 48-channel fp32 maps, 1152 bytes per pixel) and up to
// log2(copies) + 1 partial sums of three maps (576 bytes each).
double pass_bytes(int64_t h, int64_t w, int64_t width, int copies)
{
    const double ensemble = copies > 1 ? 1152.0 + 576.0 * (1 + std::log2(copies)) : 0.0;
    return (400.0 * static_cast<double>(width) + ensemble) * static_cast<double>(h * w);
}

// Full-size state kept between passes, per input pixel: a few input frames,
// level-1 maps of up to three triples, stitched pass results and queued outputs
// (48-channel fp32 maps at r = 4).
double state_bytes(int64_t h, int64_t w)
{
    return 3200.0 * static_cast<double>(h * w);
}

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

constexpr int kMinTile = 16;
constexpr int kMaxEdgeMirror = 64;

// One tile: the part of the picture it outputs ([y0, y1) x [x0, x1)) and the
// larger part it reads, with `overlap` pixels of context where the picture has them.
struct Tile {
    int64_t y0, y1, x0, x1;
    int64_t ry0, ry1, rx0, rx1;
};

// Tiles of at most `tile` x `tile` output pixels covering h x w evenly.
std::vector<Tile> make_tiles(int64_t h, int64_t w, int64_t tile, int64_t overlap)
{
    const int64_t ny = (h + tile - 1) / tile, nx = (w + tile - 1) / tile;
    std::vector<Tile> tiles;
    for (int64_t i = 0; i < ny; i++)
        for (int64_t j = 0; j < nx; j++) {
            Tile t;
            t.y0 = i * h / ny, t.y1 = (i + 1) * h / ny;
            t.x0 = j * w / nx, t.x1 = (j + 1) * w / nx;
            t.ry0 = std::max<int64_t>(0, t.y0 - overlap), t.ry1 = std::min(h, t.y1 + overlap);
            t.rx0 = std::max<int64_t>(0, t.x0 - overlap), t.rx1 = std::min(w, t.x1 + overlap);
            tiles.push_back(t);
        }
    return tiles;
}

// A memory size with three significant digits, in the unit that fits it.
std::string readable_size(double bytes)
{
    char s[32];
    if (bytes >= 0.1 * (1 << 30))
        std::snprintf(s, sizeof(s), "%.2f GiB", bytes / (1 << 30));
    else if (bytes >= 0.1 * (1 << 20))
        std::snprintf(s, sizeof(s), "%.1f MiB", bytes / (1 << 20));
    else
        std::snprintf(s, sizeof(s), "%.1f KiB", bytes / 1024);
    return s;
}

torch::Device parse_device(const std::string &name)
{
    const bool cpu = name == "cpu";
    const bool cuda = name == "cuda" || (name.rfind("cuda:", 0) == 0 && name.size() > 5 &&
                                         name.find_first_not_of("0123456789", 5) == std::string::npos);
    if (!cpu && !cuda)
        throw EngineError(EINVAL, "invalid device '" + name + "': expected cpu, cuda or cuda:N");
    torch::Device device(name);
    if (device.is_cuda()) {
        if (!torch::cuda::is_available())
            throw EngineError(ENODEV, "device '" + name +
                                          "' requested, but CUDA is not available (this LibTorch has no CUDA "
                                          "support or no GPU was found); use device=cpu");
        const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
        if (device.has_index() && device.index() >= count)
            throw EngineError(ENODEV, "device '" + name + "' requested, but only " + std::to_string(count) +
                                          " CUDA device(s) are available");
    }
    return device;
}

// Runs the work of its scope (loading the model) on the calling thread alone.
// FFmpeg creates filters on its main thread and runs them on a filter thread; an
// OpenMP team started on the main thread as well made libgomp manage more threads
// than there are cores, and then it puts threads to sleep at every barrier
// instead of spinning, a tenth of the time or more (bench/REPORT.md, 2026-11-30,
// third section).
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

struct DSFNEngine {
    DSFNEngine(const DSFNEngineConfig &config)
        : place(parse_device(config.device ? config.device : "cpu")), device(place.device()),
          with_between(config.with_between != 0)
    {
        if (!config.model_path || !*config.model_path)
            throw EngineError(EINVAL, "no model file given");
        if (config.tile < 0 || (config.tile > 0 && config.tile < kMinTile))
            throw EngineError(EINVAL, "tile " + std::to_string(config.tile) + " is too small: 0 (automatic) or at least " +
                                          std::to_string(kMinTile) + " pixels");
        if (config.overlap < 0)
            throw EngineError(EINVAL, "overlap " + std::to_string(config.overlap) + " is negative");
        if (config.ensemble != 0 && !dsfn::valid_flip_copies(config.ensemble))
            throw EngineError(EINVAL, "ensemble " + std::to_string(config.ensemble) +
                                          ": 1 (off), 2 (and mirrored) or 4 (each also upside down)");
        ensemble = config.ensemble ? config.ensemble : 1;
        if (config.edge_mirror < 0 || config.edge_mirror > kMaxEdgeMirror)
            throw EngineError(EINVAL, "edge_mirror " + std::to_string(config.edge_mirror) + ": 0 (off) to " +
                                          std::to_string(kMaxEdgeMirror) + " pixels");
        edge = config.edge_mirror;
        tile_option = config.tile;
        overlap_option = overlap = config.overlap;
        threads = config.threads;
        core_share = dsfn::CoreShare(threads, config.adapt_threads != 0 && !place.on_gpu());
        stats.threads = threads;
        const auto on_device = place.enter();
        memory_budget = config.max_memory > 0 ? config.max_memory : default_memory_budget();
        const SerialScope serial; // the passes set their thread count (use_threads)
        if (config.precision != DSFN_PRECISION_FP32 && config.precision != DSFN_PRECISION_BF16 &&
            config.precision != DSFN_PRECISION_FP16)
            throw EngineError(EINVAL, "unknown precision " + std::to_string(config.precision));
        if (config.precision == DSFN_PRECISION_FP16 && !place.on_gpu())
            throw EngineError(EINVAL, "precision fp16 needs device=cuda (on a CPU, bf16 is the fast one)");
        net = dsfn::load_weights(config.model_path);
        net->to(device);
        if (config.precision == DSFN_PRECISION_BF16)
            net->to(torch::kBFloat16);
        else if (config.precision == DSFN_PRECISION_FP16)
            net->to(torch::kHalf);
        if (place.on_gpu()) {
            // Every segment's passes have one input size: let cuDNN time its
            // algorithms once per size and keep the fastest (a process-wide setting).
            at::globalContext().setBenchmarkCuDNN(true);
            if (config.max_memory <= 0) {
                const double free = place.free_bytes();
                memory_budget = free > 0 ? 0.8 * free : 0; // 0: unknown, tiles only when asked
            }
        }
        net->eval();
        // Channels-last convolutions run several times faster on CPU (oneDNN).
        torch::NoGradGuard no_grad;
        for (auto &p : net->parameters())
            if (p.dim() == 4)
                p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
        dsfn_window_reset(&window);
    }

    // LibTorch's thread count is per calling thread (OpenMP), and FFmpeg may
    // call from threads other than the one that created the engine. Fewer than
    // `threads` while other work holds cores (core_share.h).
    void use_threads()
    {
        if (threads <= 0)
            return;
        const int n = core_share.threads();
        if (at::get_num_threads() != n)
            at::set_num_threads(n);
        stats.threads = n;
        stats.others_busy = core_share.others();
    }

    void send(const DSFNImage &image);
    void end_segment() { window.ended = 1; }
    bool run_step();
    bool output_ready();
    void receive(DSFNImage &image, DSFNOutputInfo &info);

    void choose_tile(int64_t picture_h, int64_t picture_w);
    void keep_blocks_for_passes();
    dsfn::Maps3 run_tiled(const std::vector<torch::Tensor> &inputs, bool packed_inputs, const dsfn::Pass &pass);
    torch::Tensor to_tensor(const DSFNImage &image) const;
    void from_tensor(const torch::Tensor &map, DSFNImage &image) const;
    torch::Tensor download(const torch::Tensor &picture) const;
    void run_level1(const DSFNStep &step);
    void run_level2(const DSFNStep &step);
    void release_unneeded();

    // First, so that it is given up last, after every tensor below: the process's
    // allocator settings while this engine lives (malloc_policy.h).
    dsfn::MemoryPolicy memory_policy;
    dsfn::DeviceStream place; // the device, and on a GPU this engine's own stream
    torch::Device device;
    bool with_between;
    int threads = 0;
    dsfn::CoreShare core_share{1, false};
    double memory_budget = 0;
    int64_t tile_option = 0, overlap_option = 0;
    int64_t tile = 0;    // side of the tiles of the current segment; 0: whole pictures
    int64_t overlap = 0; // context around each tile in the current segment (choose_tile)
    bool tile_grown = false;
    int ensemble = 1; // copies of each pass averaged (flip_ensemble.h)
    int64_t edge = 0; // pixels of mirror image around each input picture (mirror_edges.h)
    dsfn::Network net{nullptr};

    DSFNWindow window;
    int64_t segment_start = 0;          // stream index of the segment's first frame
    int width = 0, height = 0;          // picture size of the current segment
    std::deque<torch::Tensor> frames;   // input frames from index frames_base on
    int64_t frames_base = 0;
    std::deque<dsfn::Level1Maps> triples; // level-1 results from index triples_base on
    int64_t triples_base = 0;
    torch::Tensor pending_keyframe; // window k's estimate of keyframe k+1
    std::deque<Output> outputs;

    DSFNEngineStats stats{};
    std::string error;
};

namespace {

// An 8-bit plane of h rows of w pixels of `channels` bytes in the caller's memory,
// as a [h, w, channels] tensor over its rows in memory order (16-bit planes are
// viewed as int16: LibTorch 1.13 has no unsigned 16-bit type). FFmpeg passes
// bottom-up pictures (vflip) with a negative linesize; LibTorch has no negative
// strides (from_blob aborts the process on one), so such a plane is viewed from
// its lowest row and `bottom_up` says that its rows run the other way.
struct PlaneView {
    torch::Tensor rows;
    bool bottom_up;

    torch::Tensor read() const { return bottom_up ? rows.flip(0) : rows; }
    void write(const torch::Tensor &picture) { rows.copy_(bottom_up ? picture.flip(0) : picture); }
};

PlaneView plane_view(uint8_t *data, int linesize, int64_t h, int64_t w, int64_t channels,
                     torch::ScalarType type = torch::kUInt8)
{
    const bool bottom_up = linesize < 0;
    const int64_t sample = type == torch::kUInt8 ? 1 : 2;
    uint8_t *lowest = bottom_up ? data + (h - 1) * static_cast<int64_t>(linesize) : data;
    return {torch::from_blob(lowest, {h, w, channels},
                             {std::abs(static_cast<int64_t>(linesize)) / sample, channels, 1}, type),
            bottom_up};
}

bool is_16bit(const DSFNImage &image)
{
    return image.layout == DSFN_LAYOUT_GBRP16;
}

// The 16-bit samples of an int16 view as the values 0-65535 they hold.
torch::Tensor unsigned_16bit(const torch::Tensor &samples)
{
    return samples.to(torch::kInt).bitwise_and_(0xFFFF);
}

} // namespace

torch::Tensor DSFNEngine::to_tensor(const DSFNImage &image) const
{
    const int64_t h = image.height, w = image.width;
    const bool deep = is_16bit(image);
    torch::Tensor rgb;
    if (image.layout == DSFN_LAYOUT_RGB24) {
        rgb = plane_view(image.data[0], image.linesize[0], h, w, 3).read().permute({2, 0, 1});
    } else {
        auto plane = [&](int i) {
            return plane_view(image.data[i], image.linesize[i], h, w, 1, deep ? torch::kShort : torch::kUInt8)
                .read()
                .squeeze(2);
        };
        rgb = torch::stack({plane(2), plane(0), plane(1)}); // G, B, R planes -> R, G, B
    }
    if (place.on_gpu()) {
        // The samples go up as they are, from pinned memory without waiting;
        // mirroring and the float conversion run on the device.
        auto staged = place.host_tensor(rgb.sizes(), rgb.scalar_type());
        staged.copy_(rgb);
        rgb = staged.to(device, /*non_blocking=*/true);
    }
    if (deep) // mirrored as integers, then scaled: the float picture is written once
        return dsfn::mirror_edges(unsigned_16bit(rgb).unsqueeze(0), edge)
            .to(torch::kFloat)
            .div_(65535.0f)
            .contiguous(at::MemoryFormat::ChannelsLast);
    return dsfn::mirror_edges(rgb.unsqueeze(0), edge)
        .to(torch::kFloat)
        .div_(255.0f)
        .contiguous(at::MemoryFormat::ChannelsLast);
}

void DSFNEngine::from_tensor(const torch::Tensor &grown_map, DSFNImage &image) const
{
    const auto map = grown_map.slice(2, edge, grown_map.size(2) - edge).slice(3, edge, grown_map.size(3) - edge);
    const int64_t scale = net->architecture().scale, h = map.size(2) * scale, w = map.size(3) * scale;
    if (image.width != w || image.height != h)
        throw EngineError(EINVAL, "output picture is " + std::to_string(image.width) + "x" +
                                      std::to_string(image.height) + ", expected " + std::to_string(w) + "x" +
                                      std::to_string(h));
    const bool packed = image.layout == DSFN_LAYOUT_RGB24;
    const int plane_of[3] = {2, 0, 1}; // planar: R, G, B -> planes of G, B, R
    if (is_16bit(image)) {
        if (map.is_cpu()) {
            dsfn::Rgb16Planes dst;
            for (int c = 0; c < 3; c++) {
                dst.data[c] = reinterpret_cast<uint16_t *>(image.data[plane_of[c]]);
                dst.linesize[c] = image.linesize[plane_of[c]];
            }
            dst.pixel_step = 1;
            dsfn::map_to_rgb16(map, scale, dst);
            return;
        }
        // 0-65535 in int32, written back as int16 with the same low 16 bits.
        const auto rgb = download(dsfn::map_to_rgb16_reference(map, scale).to(torch::kShort));
        for (int c = 0; c < 3; c++)
            plane_view(image.data[plane_of[c]], image.linesize[plane_of[c]], h, w, 1, torch::kShort)
                .write(rgb[c].unsqueeze(2));
        return;
    }
    if (map.is_cpu()) {
        dsfn::Rgb8Planes dst;
        for (int c = 0; c < 3; c++) {
            dst.data[c] = packed ? image.data[0] + c : image.data[plane_of[c]];
            dst.linesize[c] = packed ? image.linesize[0] : image.linesize[plane_of[c]];
        }
        dst.pixel_step = packed ? 3 : 1;
        dsfn::map_to_rgb8(map, scale, dst);
        return;
    }
    // Other devices: convert there and copy 8-bit values back.
    const auto rgb = download(dsfn::map_to_rgb8_reference(map, scale));
    if (packed) {
        plane_view(image.data[0], image.linesize[0], h, w, 3).write(rgb.permute({1, 2, 0}));
    } else {
        for (int c = 0; c < 3; c++)
            plane_view(image.data[plane_of[c]], image.linesize[plane_of[c]], h, w, 1).write(rgb[c].unsqueeze(2));
    }
}

// A picture computed on the device, in host memory: one copy into pinned
// memory and one wait for the stream, the output picture's only synchronisation.
torch::Tensor DSFNEngine::download(const torch::Tensor &picture) const
{
    auto host = place.host_tensor(picture.sizes(), picture.scalar_type());
    host.copy_(picture, /*non_blocking=*/true);
    place.synchronize();
    return host;
}

void DSFNEngine::send(const DSFNImage &image)
{
    const int layout = static_cast<int>(image.layout);
    if (image.width < 1 || image.height < 1 || !image.data[0] || layout < DSFN_LAYOUT_GBRP ||
        layout > DSFN_LAYOUT_GBRP16)
        throw EngineError(EINVAL, "invalid picture");
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
        if (image.width != width || image.height != height)
            memory_policy.forget_blocks(); // kept for pictures of another size
        choose_tile(image.height, image.width);
        width = image.width;
        height = image.height;
        keep_blocks_for_passes();
    } else if (image.width != width || image.height != height) {
        throw EngineError(EINVAL, "picture size changed from " + std::to_string(width) + "x" +
                                      std::to_string(height) + " to " + std::to_string(image.width) + "x" +
                                      std::to_string(image.height) + " within a segment");
    }
    c10::InferenceMode guard;
    StageTimer timer(stats.input_seconds);
    frames.push_back(to_tensor(image));
    window.received++;
    stats.frames_in++;
}

// The tile side for the caller's pictures, as the passes see them (grown by `edge`):
// the whole picture when a pass over it fits the memory budget (or the caller's
// tile covers it), else the largest square tile whose pass, with its overlap,
// fits what the full-size state leaves.
void DSFNEngine::choose_tile(int64_t picture_h, int64_t picture_w)
{
    const int64_t model_width = net->architecture().width;
    const int64_t h = picture_h + 2 * edge, w = picture_w + 2 * edge;
    // Context beyond the picture's far side is never there to read: the same
    // pictures with less. A tile narrower than its context computes mostly
    // context, each pass over again: grow it to the context where memory allows.
    overlap = std::min(overlap_option, std::max(h, w));
    tile_grown = false;
    std::string size = std::to_string(picture_w) + "x" + std::to_string(picture_h);
    if (edge > 0)
        size += " (" + std::to_string(w) + "x" + std::to_string(h) + " with edge_mirror=" + std::to_string(edge) + ")";
    auto pass_of = [&](int64_t pass_h, int64_t pass_w) { return pass_bytes(pass_h, pass_w, model_width, ensemble); };
    auto pass_fits = [&](int64_t side) {
        return pass_of(std::min(h, side + 2 * overlap), std::min(w, side + 2 * overlap)) + state_bytes(h, w) <=
               memory_budget;
    };
    if (!device.is_cpu() && memory_budget <= 0) { // device memory unknown: tile only when asked
        tile = tile_option;
        return;
    }
    if (tile_option > 0) {
        int64_t side = tile_option;
        if (side < overlap && pass_fits(overlap)) {
            side = overlap;
            tile_grown = true;
        }
        tile = side >= std::max(h, w) ? 0 : side;
        if (!pass_fits(tile ? tile : std::max(h, w)))
            throw EngineError(ENOMEM, size + " pictures in tiles of " + std::to_string(tile_option) +
                                          " need about " +
                                          readable_size(pass_of(std::min(h, tile_option + 2 * overlap),
                                                      std::min(w, tile_option + 2 * overlap)) +
                                              state_bytes(h, w)) +
                                          ", more than the " + readable_size(memory_budget) +
                                          " allowed: use smaller tiles (or tile=0), or raise max_memory");
        return;
    }
    if (pass_of(h, w) + state_bytes(h, w) <= memory_budget) {
        tile = 0;
        return;
    }
    const double left = memory_budget - state_bytes(h, w);
    const int64_t side = left > 0 ? static_cast<int64_t>(std::sqrt(left / pass_of(1, 1))) - 2 * overlap : 0;
    if (side < kMinTile || !pass_fits(side))
        throw EngineError(ENOMEM, size + " pictures need about " +
                                      readable_size(pass_of(kMinTile + 2 * overlap, kMinTile + 2 * overlap) + state_bytes(h, w)) +
                                      " even in the smallest tiles, more than the " + readable_size(memory_budget) +
                                      " allowed: scale the input down before dsfn, or raise max_memory");
    tile = side;
}

// Every pass allocates what the pass before it freed: let the block cache keep
// as much as a pass and the state between passes take (which choose_tile kept
// within the memory budget), so that none of it is faulted in again.
void DSFNEngine::keep_blocks_for_passes()
{
    const int64_t h = height + 2 * edge, w = width + 2 * edge; // what the passes see
    const int64_t pass_h = tile ? std::min<int64_t>(h, tile + 2 * overlap) : h;
    const int64_t pass_w = tile ? std::min<int64_t>(w, tile + 2 * overlap) : w;
    memory_policy.keep_for_passes(static_cast<size_t>(pass_bytes(pass_h, pass_w, net->architecture().width, ensemble) +
                                                      state_bytes(h, w)));
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
    const auto tiles = make_tiles(h, w, tile, overlap);
    for (const Tile &t : tiles) {
        std::vector<torch::Tensor> part;
        for (const auto &x : inputs)
            part.push_back(x.slice(2, t.ry0, t.ry1).slice(3, t.rx0, t.rx1));
        auto maps = dsfn::flip_ensemble(part, packed_inputs, ensemble, scale, pass);
        for (int i = 0; i < 3; i++) {
            if (!out[i].defined())
                out[i] = torch::empty({maps[i].size(0), maps[i].size(1), h, w}, maps[i].options())
                             .contiguous(at::MemoryFormat::ChannelsLast);
            out[i].slice(2, t.y0, t.y1).slice(3, t.x0, t.x1)
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
    c10::InferenceMode guard;
    StageTimer timer(stats.output_seconds);
    from_tensor(outputs.front().map, image);
    info = outputs.front().info;
    outputs.pop_front();
    stats.frames_out++;
}

namespace {

// Runs fn, turning any exception into a negative error code and a message.
template <typename Fn> int guarded(std::string &error, Fn &&fn)
{
    try {
        error.clear();
        return fn();
    } catch (const EngineError &e) {
        error = e.what();
        return -e.code;
    } catch (const dsfn::WeightsError &e) {
        error = e.what();
        return -e.code();
    } catch (const std::bad_alloc &) {
        error = "out of memory";
        return -ENOMEM;
    } catch (const c10::Error &e) {
        error = e.what_without_backtrace();
        const bool oom = error.find("out of memory") != std::string::npos ||
                         error.find("can't allocate memory") != std::string::npos;
        return oom ? -ENOMEM : DSFN_ERROR_EXTERNAL;
    } catch (const std::exception &e) {
        error = e.what();
        return DSFN_ERROR_EXTERNAL;
    } catch (...) {
        error = "unknown error";
        return DSFN_ERROR_EXTERNAL;
    }
}

} // namespace

extern "C" {

int dsfn_engine_api_version(void)
{
    return DSFN_ENGINE_API_VERSION;
}

int dsfn_engine_create(DSFNEngine **engine, const DSFNEngineConfig *config, char *err, size_t err_size)
{
    std::string error;
    if (!engine)
        return -EINVAL;
    *engine = nullptr;
    const int ret = guarded(error, [&] {
        if (!config)
            throw EngineError(EINVAL, "no configuration given");
        // Owned by the C caller until dsfn_engine_free().
        *engine = std::make_unique<DSFNEngine>(*config).release();
        return 0;
    });
    if (err && err_size) {
        std::strncpy(err, error.c_str(), err_size - 1);
        err[err_size - 1] = '\0';
    }
    return ret;
}

void dsfn_engine_free(DSFNEngine **engine)
{
    if (!engine)
        return;
    std::unique_ptr<DSFNEngine> owned(*engine);
    *engine = nullptr;
    owned.reset(); // its MemoryPolicy gives back what it kept, when no other engine holds one
}

int dsfn_engine_scale(const DSFNEngine *engine)
{
    return static_cast<int>(engine->net->architecture().scale);
}

int dsfn_engine_width(const DSFNEngine *engine)
{
    return static_cast<int>(engine->net->architecture().width);
}

int dsfn_engine_send(DSFNEngine *engine, const DSFNImage *image)
{
    return guarded(engine->error, [&] {
        if (!image)
            throw EngineError(EINVAL, "no picture given");
        const auto on_device = engine->place.enter();
        engine->send(*image);
        return 0;
    });
}

int dsfn_engine_end_segment(DSFNEngine *engine)
{
    return guarded(engine->error, [&] {
        engine->end_segment();
        return 0;
    });
}

int dsfn_engine_output_ready(DSFNEngine *engine)
{
    return guarded(engine->error, [&] {
        const auto on_device = engine->place.enter();
        return engine->output_ready() ? 1 : 0;
    });
}

int dsfn_engine_receive(DSFNEngine *engine, DSFNImage *image, DSFNOutputInfo *info)
{
    return guarded(engine->error, [&] {
        DSFNOutputInfo unused;
        if (!image)
            throw EngineError(EINVAL, "no picture given");
        const auto on_device = engine->place.enter();
        engine->receive(*image, info ? *info : unused);
        return 0;
    });
}

void dsfn_engine_get_stats(const DSFNEngine *engine, DSFNEngineStats *stats)
{
    *stats = engine->stats;
    stats->tile = static_cast<int>(engine->tile);
    stats->tile_grown = engine->tile_grown;
    stats->overlap = static_cast<int>(engine->overlap);
}

const char *dsfn_engine_error(const DSFNEngine *engine)
{
    return engine ? engine->error.c_str() : "";
}

} // extern "C"
