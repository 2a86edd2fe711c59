// Synthetic training windows (train_data.h): scenes rendered from photos, windows
// cut from clips, and the degradation the network learns to undo.
#include "train/train_data.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dsfn {

torch::Tensor render_path(const torch::Tensor &photo, int64_t size, const std::vector<double> &cx,
                          const std::vector<double> &cy, const std::vector<double> &angle,
                          const std::vector<double> &zoom)
{
    const int64_t t = static_cast<int64_t>(cx.size());
    const int64_t ph = photo.size(-2), pw = photo.size(-1);
    auto opts = torch::TensorOptions().dtype(torch::kDouble);
    auto off = torch::arange(size, opts) - (size - 1) / 2.0;
    auto v = off.view({1, size, 1});
    auto u = off.view({1, 1, size});
    auto tv = [&](const std::vector<double> &x) { return torch::tensor(x, opts).view({t, 1, 1}); };
    auto c = torch::cos(tv(angle)) * tv(zoom), s = torch::sin(tv(angle)) * tv(zoom);
    auto x = tv(cx) + c * u - s * v;
    auto y = tv(cy) + s * u + c * v;
    // grid_sample, align_corners=false: pixel p sits at (2p + 1) / size - 1.
    auto grid = torch::stack({(2 * x + 1) / pw - 1, (2 * y + 1) / ph - 1}, -1).to(torch::kFloat);
    auto source = photo.dim() == 4 ? photo : photo.unsqueeze(0).expand({t, 3, ph, pw});
    return torch::grid_sampler(source, grid, /*bicubic*/ 2,
                               /*reflection*/ 2, /*align_corners*/ false)
        .clamp(0.0, 1.0);
}

namespace {

struct Path {
    std::vector<double> cx, cy, angle, zoom;
};

// A smooth random camera path over frames 0..n-1 around a start point of the photo.
Path camera_path(std::mt19937_64 &rng, int64_t n, double x0, double y0, double zoom0, double max_speed)
{
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    const double pi = std::acos(-1.0);
    const double dir = 2 * pi * uni(rng), speed = max_speed * std::pow(uni(rng), 0.7);
    const double accel = 0.02 * max_speed * (uni(rng) - 0.5);
    const double spin = 0.004 * (uni(rng) - 0.5), grow = 0.006 * (uni(rng) - 0.5);
    const double shake = uni(rng) < 0.3 ? 1.5 * uni(rng) : 0.0, shake_f = 0.2 + 0.6 * uni(rng);
    const double phase = 2 * pi * uni(rng);
    Path p;
    for (int64_t i = 0; i < n; i++) {
        const double t = static_cast<double>(i) - n / 2.0;
        const double d = speed * t + 0.5 * accel * t * std::abs(t);
        const double zoom = zoom0 * std::exp(grow * t);
        p.cx.push_back(x0 + zoom * (d * std::cos(dir) + shake * std::sin(shake_f * t + phase)));
        p.cy.push_back(y0 + zoom * (d * std::sin(dir) + shake * std::cos(1.3 * shake_f * t + phase)));
        p.angle.push_back(spin * t);
        p.zoom.push_back(zoom);
    }
    return p;
}

// Sharp sub-frames [n, 3, S, S] of one synthetic scene: a moving camera over a
// photo, and sometimes a foreground object cut from another photo moving on its own.
torch::Tensor render_scene(const PhotoSet &photos, const DegradeOptions &opt, int64_t n, std::mt19937_64 &rng)
{
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    const int64_t size = opt.patch * opt.scale;
    // How far a path's start must stay from the photo's edges.
    auto margin_for = [size](double zoom, double travel) { return zoom * (size * 0.75 + travel) + 2; };
    auto pick = [&](double zoom, double travel, const torch::Tensor &photo, double &x, double &y) {
        const double margin = margin_for(zoom, travel);
        const double w = photo.size(2), h = photo.size(1);
        x = w > 2 * margin ? margin + uni(rng) * (w - 2 * margin) : w / 2;
        y = h > 2 * margin ? margin + uni(rng) * (h - 2 * margin) : h / 2;
    };

    const size_t bg_index = rng() % photos.size();
    const double zoom = 0.6 + 1.2 * uni(rng);
    const double travel = opt.max_speed * n;
    // A reduced copy of the photo, unless it is too small for the whole path. No draw
    // with one level: batches stay what they were before the reduced copies.
    int level = opt.photo_levels > 1 ? static_cast<int>(rng() % static_cast<uint64_t>(opt.photo_levels)) : 0;
    const double needs = 2 * margin_for(zoom, travel);
    auto short_side = [&](int k) {
        const auto &copy = photos.reduced(bg_index, k);
        return std::min(copy.size(1), copy.size(2));
    };
    while (level > 0 && short_side(level) < needs)
        level--;
    const auto &bg = photos.reduced(bg_index, level);
    // Flat patches (sky, bokeh) teach little: keep the most textured of a few tries.
    double x0 = 0, y0 = 0, best = -1;
    for (int attempt = 0; attempt < 4 && best < 0.08; attempt++) {
        double x, y;
        pick(zoom, travel, bg, x, y);
        const int64_t half = static_cast<int64_t>(zoom * size / 2) + 1;
        const int64_t ix = static_cast<int64_t>(x), iy = static_cast<int64_t>(y);
        auto crop = bg.slice(1, std::max<int64_t>(0, iy - half), iy + half)
                        .slice(2, std::max<int64_t>(0, ix - half), ix + half);
        const double texture = crop.numel() ? crop.std().item<double>() : 0.0;
        if (texture > best) {
            best = texture;
            x0 = x;
            y0 = y;
        }
    }
    Path cam = camera_path(rng, n, x0, y0, zoom, opt.max_speed);
    auto frames = render_path(bg, size, cam.cx, cam.cy, cam.angle, cam.zoom);

    if (photos.size() > 1 && uni(rng) < 0.5) {
        const auto &fg = photos.reduced(rng() % photos.size(), level); // as dense as the background
        const double fzoom = 0.6 + 1.2 * uni(rng);
        double fx, fy;
        pick(fzoom, 0, fg, fx, fy);
        // The object's centre moves across the patch (output pixels, from the centre).
        const double pi = std::acos(-1.0), dir = 2 * pi * uni(rng);
        const double speed = opt.max_speed * (0.3 + 0.7 * uni(rng));
        const double mx = (uni(rng) - 0.5) * size * 0.5, my = (uni(rng) - 0.5) * size * 0.5;
        const double rx = size * (0.15 + 0.25 * uni(rng)), ry = size * (0.15 + 0.25 * uni(rng));
        Path obj;
        std::vector<double> ox, oy;
        for (int64_t i = 0; i < n; i++) {
            const double t = static_cast<double>(i) - n / 2.0;
            ox.push_back(mx + speed * t * std::cos(dir));
            oy.push_back(my + speed * t * std::sin(dir));
            obj.cx.push_back(fx - fzoom * ox.back());
            obj.cy.push_back(fy - fzoom * oy.back());
            obj.angle.push_back(0.0);
            obj.zoom.push_back(fzoom);
        }
        auto fg_frames = render_path(fg, size, obj.cx, obj.cy, obj.angle, obj.zoom);
        // Soft-edged ellipse following the object.
        auto off = torch::arange(size, torch::kFloat) - (size - 1) / 2.0f;
        auto u = off.view({1, 1, 1, size}), v = off.view({1, 1, size, 1});
        auto cxs = torch::tensor(std::vector<float>(ox.begin(), ox.end())).view({n, 1, 1, 1});
        auto cys = torch::tensor(std::vector<float>(oy.begin(), oy.end())).view({n, 1, 1, 1});
        auto r = torch::sqrt((u - cxs).pow(2) / (rx * rx) + (v - cys).pow(2) / (ry * ry));
        auto alpha = ((1.0 - r) * std::min(rx, ry) / 1.5).clamp(0.0, 1.0);
        frames = frames * (1 - alpha) + fg_frames * alpha;
    }
    return frames;
}

// Sharp frames [n, 3, size, size] cut from a random place of a random clip,
// flipped and reversed in time at random (each clip frame is one sub-frame). A
// share of them (opt.clip_camera) are seen through a handheld camera instead: each
// frame from its own point of a smooth random camera path, so the blur mixes the
// camera's shake with the clip's own motion.
torch::Tensor clip_window(const ClipSet &clips, const DegradeOptions &opt, int64_t n, std::mt19937_64 &rng)
{
    const int64_t size = opt.patch * opt.scale;
    const size_t which = rng() % clips.size();
    const auto &clip = clips[which];
    const int64_t t = clip.size(0), h = clip.size(2), w = clip.size(3);
    if (t < n || h < size || w < size)
        throw std::runtime_error("training clip " + clips.names().at(which) + " (" + std::to_string(t) + " frames of " +
                                 std::to_string(w) + "x" + std::to_string(h) + ") is smaller than a window (" +
                                 std::to_string(n) + " frames of " + std::to_string(size) + "x" + std::to_string(size) +
                                 ")");
    const int64_t t0 = static_cast<int64_t>(rng() % static_cast<uint64_t>(t - n + 1));
    const int64_t y0 = static_cast<int64_t>(rng() % static_cast<uint64_t>(h - size + 1));
    const int64_t x0 = static_cast<int64_t>(rng() % static_cast<uint64_t>(w - size + 1));
    torch::Tensor frames;
    // No draw when the share is 0: batches stay what they were without cameras.
    if (opt.clip_camera > 0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng) < opt.clip_camera) {
        // The path starts at the crop's centre, moved inwards as far as the frame allows.
        const double margin = size / 2.0 + opt.max_speed * n + 4;
        auto inside = [margin](double c, double extent) {
            return extent > 2 * margin ? std::clamp(c, margin, extent - margin) : extent / 2;
        };
        Path cam = camera_path(rng, n, inside(x0 + size / 2.0, double(w)), inside(y0 + size / 2.0, double(h)), 1.0,
                               opt.max_speed);
        // Only the part of the frames the path sees (a window's half-diagonal is under
        // size), converted once; the path moves with the cut.
        const auto [x_lo, x_hi] = std::minmax_element(cam.cx.begin(), cam.cx.end());
        const auto [y_lo, y_hi] = std::minmax_element(cam.cy.begin(), cam.cy.end());
        const int64_t left = std::max<int64_t>(0, static_cast<int64_t>(*x_lo) - size);
        const int64_t top = std::max<int64_t>(0, static_cast<int64_t>(*y_lo) - size);
        const int64_t right = std::min<int64_t>(w, static_cast<int64_t>(*x_hi) + size + 1);
        const int64_t bottom = std::min<int64_t>(h, static_cast<int64_t>(*y_hi) + size + 1);
        for (auto &x : cam.cx)
            x -= left;
        for (auto &y : cam.cy)
            y -= top;
        auto seen = clip.slice(0, t0, t0 + n).slice(2, top, bottom).slice(3, left, right);
        frames = render_path(seen.to(torch::kFloat).div_(255.0f), size, cam.cx, cam.cy, cam.angle, cam.zoom);
    } else {
        frames = clip.slice(0, t0, t0 + n).slice(2, y0, y0 + size).slice(3, x0, x0 + size);
        frames = frames.to(torch::kFloat).div_(255.0f);
    }
    std::vector<int64_t> flips;
    for (int64_t dim : {0, 2, 3})
        if (rng() % 2)
            flips.push_back(dim);
    if (!flips.empty())
        frames = frames.flip(flips);
    return frames.contiguous();
}

} // namespace

DegradeOptions clip_options(const DegradeOptions &opt)
{
    DegradeOptions o = opt;
    o.subframes = opt.clip_subframes;
    o.max_shutter = opt.clip_shutter;
    return o;
}

int64_t first_keyframe(const DegradeOptions &opt)
{
    return (opt.max_shutter - 1) / 2;
}

int64_t window_subframes(const DegradeOptions &opt)
{
    return 3 * opt.subframes + 2 * first_keyframe(opt) + 1;
}

torch::Tensor bicubic_reduction(int64_t in, int64_t out, double a)
{
    const auto keys = [a](double x) {
        x = std::fabs(x);
        if (x < 1)
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2)
            return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    };
    const double stretch = std::max(1.0, double(in) / out);
    auto weights = torch::zeros({out, in}, torch::kDouble);
    auto w = weights.accessor<double, 2>();
    for (int64_t i = 0; i < out; i++) {
        const double centre = (i + 0.5) * in / out;
        const auto lo = int64_t(std::floor(centre - 2 * stretch)), hi = int64_t(std::ceil(centre + 2 * stretch));
        for (int64_t j = lo; j < hi; j++)
            w[i][std::clamp<int64_t>(j, 0, in - 1)] += keys((j + 0.5 - centre) / stretch);
    }
    return (weights / weights.sum(1, true)).to(torch::kFloat);
}

std::string noise_text(const DegradeOptions &opt)
{
    std::ostringstream text;
    text << (opt.noise_up_to ? "0 to " : "") << opt.noise_std;
    return text.str();
}

void degrade_window(const torch::Tensor &frames, int64_t shutter_half, const DegradeOptions &opt, at::Generator &gen,
                    std::array<std::vector<torch::Tensor>, 4> &inputs, std::array<std::vector<torch::Tensor>, 5> &truth)
{
    const int64_t first = first_keyframe(opt);
    const auto rows = bicubic_reduction(frames.size(2), opt.patch, opt.bicubic_a);
    const auto cols = bicubic_reduction(frames.size(3), opt.patch, opt.bicubic_a);
    // One camera, one noise level for the window's four inputs.
    const double noise_std = opt.noise_up_to ? opt.noise_std * torch::rand({1}, gen).item<double>() : opt.noise_std;
    for (int64_t k = 0; k < 4; k++) {
        const int64_t centre = first + k * opt.subframes;
        auto blurry = frames.slice(0, centre - shutter_half, centre + shutter_half + 1).mean(0, true);
        auto low = torch::matmul(torch::matmul(rows, blurry), cols.t());
        if (noise_std > 0)
            low = low + torch::randn(low.sizes(), gen) * noise_std;
        // Real inputs are 8-bit.
        inputs[k].push_back(low.clamp(0.0, 1.0).mul(255.0).round().div(255.0));
    }
    for (int64_t i = 0; i < 5; i++) {
        const int64_t at = first + (i + 1) * opt.subframes / 2;
        truth[i].push_back(frames.slice(0, at, at + 1));
    }
}

Batch make_batch(const PhotoSet &photos, const DegradeOptions &opt, int64_t batch, uint64_t seed)
{
    return make_batch(photos, ClipSet(), opt, batch, seed);
}

Batch make_batch(const PhotoSet &photos, const ClipSet &clips, const DegradeOptions &opt, int64_t batch, uint64_t seed)
{
    torch::NoGradGuard no_grad;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    auto gen = at::detail::createCPUGenerator(seed);

    std::array<std::vector<torch::Tensor>, 4> inputs;
    std::array<std::vector<torch::Tensor>, 5> truth;
    const DegradeOptions real = clip_options(opt);
    for (int64_t b = 0; b < batch; b++) {
        // No draw without clips: photo-only batches stay what they were.
        const bool from_clip = !clips.empty() && uni(rng) < opt.clip_fraction;
        const DegradeOptions &o = from_clip ? real : opt;
        auto frames = from_clip ? clip_window(clips, opt, window_subframes(o), rng)
                                : render_scene(photos, opt, window_subframes(o), rng);
        if (!from_clip) // the paper's flips (clip windows are flipped where they are cut)
            for (int64_t dim : {2, 3})
                if (rng() % 2)
                    frames = frames.flip({dim});

        // Colour jitter: brightness and per-channel gain, the same for the whole window.
        auto gain = torch::tensor({uni(rng), uni(rng), uni(rng)}, torch::kFloat).mul_(0.2).add_(0.9);
        frames = (frames * gain.view({1, 3, 1, 1}) * static_cast<float>(0.8 + 0.4 * uni(rng))).clamp_(0.0, 1.0);

        // Shutter: an odd number of sub-frames, up to the paper's 11 (3 for clips).
        const int64_t shutter_half =
            from_clip ? first_keyframe(o) : std::uniform_int_distribution<int64_t>(1, first_keyframe(o))(rng);
        degrade_window(frames, shutter_half, o, gen, inputs, truth);
    }
    Batch out;
    for (int k = 0; k < 4; k++)
        out.inputs[k] = torch::cat(inputs[k]);
    for (int i = 0; i < 5; i++)
        out.truth[i] = torch::cat(truth[i]);
    return out;
}

} // namespace dsfn
