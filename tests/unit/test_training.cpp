// Training: the degradation pipeline, one training step, exact resume.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "int8/activation_ranges.h"
#include "int8/range_observer.h"
#include "tests.h"
#include "train/mixed_precision.h"
#include "train/train_options.h"
#include "train/training.h"
#include "net/weights_file.h"

namespace {

// Small synthetic "photos": smooth colour ramps with some texture.
dsfn::PhotoSet synthetic_photos()
{
    torch::manual_seed(11);
    std::vector<torch::Tensor> photos;
    for (int i = 0; i < 2; i++) {
        auto ramp = torch::linspace(0, 1, 96).view({1, 1, 96}).expand({3, 80, 96});
        photos.push_back((ramp * 0.6 + torch::rand({3, 80, 96}) * 0.4).contiguous());
    }
    return dsfn::PhotoSet(std::move(photos));
}

// Every window from clips, small patches, no noise: the clip tests' degradation.
dsfn::DegradeOptions clips_only()
{
    dsfn::DegradeOptions opt;
    opt.patch = 8;
    opt.noise_std = 0;
    opt.clip_fraction = 1;
    return opt;
}

// The message of the exception fn throws ("" if none).
template <typename Fn>
std::string error_of(Fn &&fn)
{
    try {
        fn();
    } catch (const std::exception &e) {
        return e.what();
    }
    return "";
}

dsfn::TrainConfig tiny_config()
{
    dsfn::TrainConfig c;
    c.arch.width = 4;
    c.data.patch = 8;
    c.data.max_speed = 1.0;
    c.batch = 2;
    c.lr = 1e-3;
    return c;
}

} // namespace

START_TEST(test_degradation_is_mean_of_subframes)
{
    dsfn::DegradeOptions opt;
    opt.patch = 4;
    opt.noise_std = 0;
    const int64_t n = dsfn::window_subframes(opt);
    ck_assert_int_eq(n, 35); // 3 intervals of 8 sub-frames, 5 either side for the 11-frame shutter
    // Sub-frame i is a flat picture of value i / 100: blur and alignment show in the values.
    auto frames = (torch::arange(n, torch::kFloat) / 100).view({n, 1, 1, 1}).expand({n, 3, 16, 16}).contiguous();
    auto gen = at::detail::createCPUGenerator(1);
    std::array<std::vector<torch::Tensor>, 4> in;
    std::array<std::vector<torch::Tensor>, 5> truth;
    dsfn::degrade_window(frames, 2, opt, gen, in, truth);
    const int64_t first = dsfn::first_keyframe(opt);
    for (int k = 0; k < 4; k++) {
        ck_assert(in[k][0].sizes() == torch::IntArrayRef({1, 3, 4, 4}));
        // mean of 5 sub-frames centred on keyframe k, rounded to 8 bits
        const double want = std::round((first + 8 * k) / 100.0 * 255) / 255;
        ck_assert_msg(std::fabs(in[k][0].mean().item<double>() - want) < 1e-6, "input %d", k);
    }
    for (int i = 0; i < 5; i++) {
        ck_assert(truth[i][0].sizes() == torch::IntArrayRef({1, 3, 16, 16}));
        // truth at keyframe 0 + (i + 1) half intervals: B0+1/2, B1, B1+1/2, B2, B2+1/2
        ck_assert(std::fabs(truth[i][0].mean().item<double>() - (first + 4 * (i + 1)) / 100.0) < 1e-6);
    }
}
END_TEST

START_TEST(test_noise_up_to_is_one_level_per_window)
{
    dsfn::DegradeOptions opt;
    opt.patch = 16;
    opt.noise_std = 0.05;
    opt.noise_up_to = true;
    const int64_t n = dsfn::window_subframes(opt);
    auto frames = torch::full({n, 3, 64, 64}, 0.5f);
    double lo = 1, hi = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        auto gen = at::detail::createCPUGenerator(seed);
        std::array<std::vector<torch::Tensor>, 4> in;
        std::array<std::vector<torch::Tensor>, 5> truth;
        dsfn::degrade_window(frames, 2, opt, gen, in, truth);
        // A flat picture: what varies is the noise, the same level in all four inputs.
        const double first = in[0][0].std().item<double>();
        for (int k = 1; k < 4; k++)
            ck_assert_msg(std::fabs(in[k][0].std().item<double>() - first) < 0.2 * first + 0.003, "seed %d input %d",
                          int(seed), k);
        ck_assert(first < 0.05 * 1.1);
        lo = std::min(lo, first), hi = std::max(hi, first);
    }
    ck_assert_msg(lo < 0.5 * hi, "levels %g to %g: not drawn per window", lo, hi);
}
END_TEST

START_TEST(test_bicubic_reduction_matches_ffmpeg)
{
    // One row of 32 samples, sharp bars then a ramp, reduced to 8 by FFmpeg 7.1.5:
    //   ffmpeg -f rawvideo -pix_fmt gray -s 32x4 -i ROW_x4.raw -vf scale=8:1:flags=bicubic -f rawvideo -
    const uint8_t row[32] = {255, 255, 255, 0,   0,  0,  255, 255, 255, 0,  0,  0,   255, 255, 255, 0,
                             0,   0,   255, 255, 36, 89, 142, 195, 248, 45, 98, 151, 204, 1,   54,  107};
    const uint8_t ffmpeg[8] = {176, 124, 107, 151, 102, 149, 141, 87};
    auto x = torch::from_blob(const_cast<uint8_t *>(row), {32}, torch::kUInt8).to(torch::kFloat);
    auto mine = torch::matmul(dsfn::bicubic_reduction(32, 8, -0.6), x).round();
    auto other = torch::matmul(dsfn::bicubic_reduction(32, 8, -0.5), x).round();
    int64_t off = 0;
    for (int i = 0; i < 8; i++) {
        ck_assert_msg(std::fabs(mine[i].item<float>() - ffmpeg[i]) <= 1, "sample %d: %g, FFmpeg %d", i,
                      mine[i].item<float>(), ffmpeg[i]);
        off = std::max<int64_t>(off, std::lround(std::fabs(other[i].item<float>() - ffmpeg[i])));
    }
    ck_assert_int_ge(off, 2); // a = -0.5 is a different kernel: the row tells them apart
    // Away from the edges, a = -0.5 is torch's antialiased bicubic.
    auto pic = torch::rand({1, 3, 64, 40}, torch::kFloat);
    auto ref = torch::nn::functional::interpolate(pic, torch::nn::functional::InterpolateFuncOptions()
                                                           .size(std::vector<int64_t>{16, 10})
                                                           .mode(torch::kBicubic)
                                                           .align_corners(false)
                                                           .antialias(true));
    auto got = torch::matmul(torch::matmul(dsfn::bicubic_reduction(64, 16, -0.5), pic),
                             dsfn::bicubic_reduction(40, 10, -0.5).t());
    auto inner = [](const torch::Tensor &t) { return t.slice(2, 2, -2).slice(3, 2, -2); };
    ck_assert_float_lt((inner(got) - inner(ref)).abs().max().item<float>(), 1e-5f);
    ck_assert(torch::allclose(dsfn::bicubic_reduction(64, 16, -0.6).sum(1), torch::ones({16})));
}
END_TEST

START_TEST(test_batch_sizes_and_determinism)
{
    auto photos = synthetic_photos();
    dsfn::DegradeOptions opt;
    opt.patch = 8;
    opt.max_speed = 1.0;
    auto a = dsfn::make_batch(photos, opt, 3, 42), b = dsfn::make_batch(photos, opt, 3, 42);
    auto c = dsfn::make_batch(photos, opt, 3, 43);
    for (int k = 0; k < 4; k++) {
        ck_assert(a.inputs[k].sizes() == torch::IntArrayRef({3, 3, 8, 8}));
        ck_assert(torch::equal(a.inputs[k], b.inputs[k]));
        ck_assert(a.inputs[k].min().item<double>() >= 0 && a.inputs[k].max().item<double>() <= 1);
    }
    for (int i = 0; i < 5; i++)
        ck_assert(a.truth[i].sizes() == torch::IntArrayRef({3, 3, 32, 32}));
    ck_assert(!torch::equal(a.inputs[0], c.inputs[0]));
}
END_TEST

// A clip of flat frames whose values alternate 0.2, 0.5, 0.2, ...: in a window cut
// from it, input k is the mean of 3 frames centred on keyframe k (two of the other
// value, one of its own), 2 frames (m = 2) apart; truth is the frames themselves.
START_TEST(test_clip_windows_blur_three_frames_two_apart)
{
    auto photos = synthetic_photos();
    dsfn::DegradeOptions opt = clips_only();
    const int64_t t = 20;
    auto values = torch::arange(t, torch::kFloat).remainder(2).mul(0.3).add(0.2);
    auto clip = values.mul(255).round().to(torch::kUInt8).view({t, 1, 1, 1}).expand({t, 3, 40, 48}).contiguous();
    const dsfn::ClipSet clips({clip});
    ck_assert_int_eq(dsfn::window_subframes(dsfn::clip_options(opt)), 9);

    auto batch = dsfn::make_batch(photos, clips, opt, 6, 5);
    const double step = 1.0 / 255 + 1e-6; // inputs are rounded to 8 bits after the colour jitter
    for (int64_t b = 0; b < 6; b++) {
        auto mean = [&](const torch::Tensor &x) { return x[b].mean({1, 2}); }; // per channel
        for (int k = 1; k <= 2; k++) {
            // keyframe k is truth 2k - 1, the frame after it truth 2k - 2 or 2k
            auto want = (2 * mean(batch.truth[2 * k - 2]) + mean(batch.truth[2 * k - 1])) / 3;
            ck_assert_msg((mean(batch.inputs[k]) - want).abs().max().item<double>() <= step,
                          "sample %ld input %d is not the mean of its 3 frames", static_cast<long>(b), k);
        }
        // m = 2: consecutive keyframes have the same value, the frames between the other.
        ck_assert((mean(batch.truth[1]) - mean(batch.truth[3])).abs().max().item<double>() < 1e-6);
        ck_assert((mean(batch.truth[0]) - mean(batch.truth[1])).abs().min().item<double>() > 0.2);
        ck_assert((mean(batch.inputs[0]) - mean(batch.inputs[3])).abs().max().item<double>() <= step);
    }

    // Without clips the same seed gives the same batch as photos alone.
    auto alone = dsfn::make_batch(photos, opt, 2, 9), none = dsfn::make_batch(photos, dsfn::ClipSet(), opt, 2, 9);
    ck_assert(torch::equal(alone.inputs[0], none.inputs[0]) && torch::equal(alone.truth[4], none.truth[4]));

    // A clip too small for a window is an error that names it, not a crash.
    const dsfn::ClipSet tiny({clip.slice(0, 0, 5)});
    try {
        dsfn::make_batch(photos, tiny, opt, 1, 5);
        ck_abort_msg("a 5-frame clip was accepted");
    } catch (const std::runtime_error &e) {
        ck_assert_ptr_nonnull(strstr(e.what(), "smaller than a window"));
    }
}
END_TEST

// A clip of one still, textured picture: cut as it is, every frame of a window is
// the same; through the handheld camera (--clip-camera) the frames move against
// each other, reproducibly for a seed.
START_TEST(test_clip_camera_moves_a_still_clip)
{
    auto photos = synthetic_photos();
    dsfn::DegradeOptions opt = clips_only();
    torch::manual_seed(3);
    auto still = torch::rand({1, 3, 60, 72}).mul(255).round().to(torch::kUInt8).expand({12, 3, 60, 72}).contiguous();
    const dsfn::ClipSet clips({still});
    auto moved = [](const dsfn::Batch &b, int64_t i) {
        return (b.truth[0][i] - b.truth[4][i]).abs().max().item<double>() > 0.01;
    };

    auto fixed = dsfn::make_batch(photos, clips, opt, 6, 11);
    for (int64_t i = 0; i < 6; i++)
        ck_assert_msg(!moved(fixed, i), "sample %ld moved without a camera", static_cast<long>(i));

    opt.clip_camera = 1;
    auto handheld = dsfn::make_batch(photos, clips, opt, 6, 11);
    int64_t moving = 0;
    for (int64_t i = 0; i < 6; i++)
        moving += moved(handheld, i);
    ck_assert_int_ge(moving, 3);
    auto again = dsfn::make_batch(photos, clips, opt, 6, 11);
    ck_assert(torch::equal(handheld.inputs[2], again.inputs[2]) && torch::equal(handheld.truth[3], again.truth[3]));
}
END_TEST

// A grey photo with a bright dot every 8 pixels: the pyramid holds 2x2 means, and
// with --photo-levels some scenes come from a reduced copy, where the dots are fainter
// than anywhere in the full-size photo at any zoom the scenes use.
START_TEST(test_photo_levels_reduce_some_scenes)
{
    auto grey = torch::full({3, 1024, 2048}, 0.5f);
    grey.slice(1, 0, 1024, 8).slice(2, 0, 2048, 8).fill_(1.0f);
    const dsfn::PhotoSet photos({grey});
    ck_assert_int_eq(photos.reduced(0, 1).size(2), 1024);
    ck_assert_float_eq_tol(photos.reduced(0, 1)[0][0][0].item<float>(), 0.625f, 1e-6f);
    ck_assert_float_eq_tol(photos.reduced(0, 2)[0][0][0].item<float>(), 0.53125f, 1e-6f);
    ck_assert_float_eq_tol(photos.reduced(0, 2)[0][2][2].item<float>(), 0.53125f, 1e-6f);
    ck_assert_float_eq_tol(photos.reduced(0, 2)[0][1][1].item<float>(), 0.5f, 1e-6f);

    dsfn::DegradeOptions opt;
    opt.patch = 8;
    opt.noise_std = 0;
    // The brightest dot against the grey, which the colour jitter scales alike.
    auto contrast = [](const dsfn::Batch &b, int64_t i) {
        auto red = b.truth[2][i][0];
        return (red.max() / red.median()).item<double>() - 1;
    };
    const int64_t n = 12;
    auto full = dsfn::make_batch(photos, opt, n, 21);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(contrast(full, i) > 0.3, "sample %ld: contrast %g at full size", static_cast<long>(i),
                      contrast(full, i));
    opt.photo_levels = 3;
    auto mixed = dsfn::make_batch(photos, opt, n, 21);
    int64_t reduced = 0;
    for (int64_t i = 0; i < n; i++)
        reduced += contrast(mixed, i) < 0.26;
    ck_assert_int_ge(reduced, 3);
    ck_assert_int_le(reduced, n - 2);
}
END_TEST

// Clips load from subdirectories of PPM frames, in name order.
START_TEST(test_clip_set_loads_frames_in_order)
{
    const std::string dir = "clips-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir + "/b");
    std::filesystem::create_directories(dir + "/a");
    std::filesystem::create_directories(dir + "/empty");
    for (int i = 0; i < 3; i++) {
        std::ofstream f(dir + "/b/" + std::to_string(3 - i) + ".ppm", std::ios::binary);
        f << "P6\n2 1\n255\n";
        const char px[6] = {char(10 * i), 0, 0, char(10 * i), 0, 0};
        f.write(px, 6);
    }
    {
        std::ofstream f(dir + "/a/1.ppm", std::ios::binary);
        f << "P6\n1 1\n255\n";
        f.write("\x07\x08\x09", 3);
    }
    const dsfn::ClipSet clips(dir);
    ck_assert_int_eq(clips.size(), 2);
    ck_assert(clips.names()[0] == "a" && clips.names()[1] == "b");
    ck_assert(clips[0].sizes() == torch::IntArrayRef({1, 3, 1, 1}));
    ck_assert(clips[1].sizes() == torch::IntArrayRef({3, 3, 1, 2}));
    // 1.ppm, 2.ppm, 3.ppm were written with red 20, 10, 0
    ck_assert_int_eq(clips[1][0][0][0][0].item<int>(), 20);
    ck_assert_int_eq(clips[1][2][0][0][1].item<int>(), 0);
    ck_assert(dsfn::ClipSet("no-such-dir").empty());
    std::filesystem::remove_all(dir);
}
END_TEST

namespace {

// The trainer's own loss on `batch` after 20 steps on it.
double loss_after_training(dsfn::Trainer &t, const dsfn::Batch &batch)
{
    for (int i = 0; i < 20; i++)
        t.train_on(batch);
    return dsfn::paper_loss(*t.net, batch, t.config.loss, t.config.edge_mirror).total.item<double>();
}

// A trainer variant lowers its loss on a fixed batch below `ratio` of `before`, and
// its recipe's schedule line names it with `words`.
void check_variant_trains_and_is_named(dsfn::Trainer &t, const dsfn::Batch &batch, double before, double ratio,
                                       const char *words)
{
    const double after = loss_after_training(t, batch);
    ck_assert_msg(after < ratio * before, "loss %g -> %g", before, after);
    t.record_schedule();
    ck_assert_msg(t.schedule_history.find(words) != std::string::npos, "%s", t.schedule_history.c_str());
}

} // namespace

START_TEST(test_training_lowers_loss)
{
    at::set_num_threads(1);
    torch::manual_seed(3);
    auto photos = synthetic_photos();
    dsfn::Trainer t(tiny_config());
    auto batch = dsfn::make_batch(photos, t.config.data, 2, 7);
    const double before = dsfn::paper_loss(*t.net, batch).total.item<double>();
    const double after = loss_after_training(t, batch);
    ck_assert_msg(after < 0.9 * before, "loss %g -> %g", before, after);
}
END_TEST

// --precision bf16: convolutions run in bf16 inside the guard only, nesting restores
// the state, and training in mixed precision still lowers the loss.
START_TEST(test_mixed_precision)
{
    at::set_num_threads(1);
    torch::manual_seed(3);
    const auto x = torch::rand({1, 3, 8, 8});
    const auto w = torch::rand({4, 3, 3, 3});
    {
        dsfn::MixedPrecision outer(torch::kCPU, true);
        ck_assert(torch::conv2d(x, w).scalar_type() == torch::kBFloat16);
        {
            dsfn::MixedPrecision inner(torch::kCPU, true);
            dsfn::MixedPrecision off(torch::kCPU, false);
            ck_assert(torch::conv2d(x, w).scalar_type() == torch::kBFloat16);
        }
        ck_assert(torch::conv2d(x, w).scalar_type() == torch::kBFloat16);
    }
    ck_assert(torch::conv2d(x, w).scalar_type() == torch::kFloat);

    auto photos = synthetic_photos();
    auto cfg = tiny_config();
    cfg.mixed_precision = true;
    dsfn::Trainer t(cfg);
    auto batch = dsfn::make_batch(photos, t.config.data, 2, 7);
    const double before = dsfn::paper_loss(*t.net, batch).total.item<double>();
    check_variant_trains_and_is_named(t, batch, before, 0.9, "bf16 mixed precision");
    for (const auto &p : t.net->parameters())
        ck_assert(p.scalar_type() == torch::kFloat);
}
END_TEST

// --loss mse: the same eq. 12 sum with squared error, which training lowers and the recipe names
START_TEST(test_squared_error_loss)
{
    at::set_num_threads(1);
    torch::manual_seed(3);
    auto photos = synthetic_photos();
    dsfn::TrainConfig c = tiny_config();
    c.loss = dsfn::LossKind::SquaredError;
    dsfn::Trainer t(c);
    auto batch = dsfn::make_batch(photos, t.config.data, 2, 7);
    const dsfn::Loss l1 = dsfn::paper_loss(*t.net, batch);
    const dsfn::Loss se = dsfn::paper_loss(*t.net, batch, dsfn::LossKind::SquaredError);
    // every error here is below 1, so a mean square lies below the mean absolute error, above its square
    ck_assert_msg(se.level1 < l1.level1 && se.level1 > l1.level1 * l1.level1, "%g vs %g", se.level1, l1.level1);
    ck_assert_msg(se.level2 < l1.level2 && se.level2 > l1.level2 * l1.level2, "%g vs %g", se.level2, l1.level2);
    check_variant_trains_and_is_named(t, batch, se.total.item<double>(), 0.8, ", squared-error loss");
}
END_TEST

// --int8-ranges FILE: the int8 arithmetic simulated (fake_quant_runner.h) changes
// the loss of the same weights, still trains, and the schedule says so.
START_TEST(test_int8_simulated_training)
{
    at::set_num_threads(1);
    auto photos = synthetic_photos();
    torch::manual_seed(3);
    dsfn::Trainer plain(tiny_config());
    auto batch = dsfn::make_batch(photos, plain.config.data, 2, 7);
    const std::string ranges_path = "int8-train.ranges";
    {
        torch::NoGradGuard no_grad;
        auto observer = std::make_shared<dsfn::RangeObserver>();
        plain.net->run_convs_with(observer);
        dsfn::paper_loss(*plain.net, batch);
        plain.net->run_convs_with(nullptr);
        dsfn::ActivationRanges ranges;
        ranges.weights_digest = "0123456789abcdef";
        ranges.points = observer->ranges();
        dsfn::write_activation_ranges(ranges_path, ranges, "test");
    }
    dsfn::TrainConfig c = tiny_config();
    c.int8_ranges = ranges_path;
    torch::manual_seed(3);
    dsfn::Trainer t(c);
    const double float_loss = dsfn::paper_loss(*plain.net, batch).total.item<double>();
    const double int8_loss = dsfn::paper_loss(*t.net, batch).total.item<double>();
    ck_assert_msg(int8_loss != float_loss && std::fabs(int8_loss - float_loss) < 0.1 * float_loss, "%g vs %g",
                  int8_loss, float_loss);
    check_variant_trains_and_is_named(t, batch, int8_loss, 0.9, ", int8 simulated");
    std::filesystem::remove(ranges_path);

    c.mixed_precision = true;
    ck_assert(error_of([&] { dsfn::Trainer both(c); }).find("does not train in bf16") != std::string::npos);
    c.mixed_precision = false;
    c.int8_ranges = "no-such.int8";
    ck_assert_msg(error_of([&] { dsfn::Trainer missing(c); }).find("no-such.int8") != std::string::npos, "%s",
                  error_of([&] { dsfn::Trainer missing(c); }).c_str());
}
END_TEST

// --teacher WEIGHTS: the targets are the teacher's pictures. A network is its own
// perfect teacher; another network learns the teacher's pictures.
START_TEST(test_distillation)
{
    at::set_num_threads(1);
    auto photos = synthetic_photos();
    torch::manual_seed(5);
    dsfn::Trainer other(tiny_config());
    const std::string teacher_path = "teacher-w4.dsfn";
    dsfn::save_weights(teacher_path, *other.net, dsfn::Storage::Float32);

    dsfn::TrainConfig c = tiny_config();
    c.teacher = teacher_path;
    torch::manual_seed(3);
    dsfn::Trainer t(c);
    auto batch = dsfn::make_batch(photos, c.data, 2, 7);
    // Zero to within float rounding: with gradients the warp runs other code than without.
    ck_assert(dsfn::distillation_loss(*t.net, *t.net, batch).total.item<double>() < 1e-6);
    const auto distance = [&] { return dsfn::distillation_loss(*t.net, *t.teacher, batch).total.item<double>(); };
    const double before = distance();
    for (int i = 0; i < 20; i++)
        t.train_on(batch);
    ck_assert_msg(distance() < 0.8 * before, "distance to the teacher %g -> %g", before, distance());
    t.record_schedule();
    ck_assert(t.schedule_history.find(", the teacher's pictures as targets") != std::string::npos);

    c.arch.width = 8;
    ck_assert(error_of([&] { dsfn::Trainer wider(c); }).find("another architecture") != std::string::npos);
    std::filesystem::remove(teacher_path);
}
END_TEST

// --edge-mirror P: inputs grown as the filter's edge_mirror grows them, outputs cropped
// back to the truth's size. A network that outputs its pointwise bases (zero residuals)
// must score the same as without, which pins the crop to the right pixels.
START_TEST(test_edge_mirror_loss)
{
    at::set_num_threads(1);
    torch::manual_seed(3);
    auto photos = synthetic_photos();
    dsfn::TrainConfig c = tiny_config();
    c.edge_mirror = 3;
    dsfn::Trainer t(c);
    auto batch = dsfn::make_batch(photos, t.config.data, 2, 7);
    const double plain = dsfn::paper_loss(*t.net, batch).total.item<double>();
    const double grown = dsfn::paper_loss(*t.net, batch, dsfn::LossKind::L1, 3).total.item<double>();
    ck_assert_msg(std::isfinite(grown) && grown != plain, "grown %g, plain %g", grown, plain);

    dsfn::Trainer bases(c);
    bases.net->zero_residuals();
    const double bases_plain = dsfn::paper_loss(*bases.net, batch).total.item<double>();
    const double bases_grown = dsfn::paper_loss(*bases.net, batch, dsfn::LossKind::L1, 3).total.item<double>();
    ck_assert_msg(std::fabs(bases_grown - bases_plain) <= 1e-6 * bases_plain, "bases: grown %.9g, plain %.9g",
                  bases_grown, bases_plain);
    check_variant_trains_and_is_named(t, batch, grown, 0.9, ", inputs grown by 3 mirrored pixels a side");
}
END_TEST

START_TEST(test_checkpoint_resumes_exactly)
{
    at::set_num_threads(1);
    auto photos = synthetic_photos();
    const std::string dir = "ckpt-test";
    std::filesystem::remove_all(dir);

    torch::manual_seed(5);
    dsfn::Trainer a(tiny_config());
    a.train_step(photos);
    a.train_step(photos);
    a.save(dir);
    a.train_step(photos);
    a.train_step(photos);

    torch::manual_seed(99); // different initial weights: all must come from the checkpoint
    dsfn::Trainer b(tiny_config());
    b.load(dir);
    ck_assert_int_eq(b.step, 2);
    b.train_step(photos);
    b.train_step(photos);
    ck_assert_int_eq(b.step, 4);
    auto pa = a.net->parameters(), pb = b.net->parameters();
    for (size_t i = 0; i < pa.size(); i++)
        ck_assert_msg(torch::equal(pa[i], pb[i]), "parameter %zu differs after resume", i);
}
END_TEST

// With no checkpoint, a run continues from shipped weights where their recipe says.
START_TEST(test_init_from_weights_and_recipe)
{
    torch::manual_seed(5);
    dsfn::Trainer a(tiny_config());
    const std::string path = "init-test.dsfn";
    dsfn::save_weights(path, *a.net, dsfn::Storage::Float32);
    {
        std::ofstream recipe(path + ".recipe");
        recipe << "# How init-test.dsfn was trained\nsteps done: 2600\nwall time: 1.40 h (2-core CPU)\n"
                  "final loss: 0.05632 (eq. 12)\n";
    }
    torch::manual_seed(99);
    dsfn::Trainer b(tiny_config());
    b.init_from(path);
    ck_assert_int_eq(b.step, 2600);
    ck_assert_double_eq_tol(b.seconds, 1.40 * 3600, 1e-6);
    ck_assert_double_eq_tol(b.last_loss, 0.05632, 1e-9);
    ck_assert(b.fresh_optimizer); // the recipe's next entry says so
    auto pa = a.net->parameters(), pb = b.net->parameters();
    for (size_t i = 0; i < pa.size(); i++)
        ck_assert_msg(torch::equal(pa[i], pb[i]), "parameter %zu differs after init_from", i);
    std::filesystem::remove(path);
    std::filesystem::remove(path + ".recipe");
}
END_TEST

// A warm restart runs the cosine from schedule_from; the history of schedules
// survives a checkpoint and grows only when the schedule changes.
START_TEST(test_warm_restart_schedule_and_history)
{
    dsfn::TrainConfig cfg = tiny_config();
    cfg.lr = 1e-3;
    cfg.steps = 300;
    dsfn::Trainer t(cfg);
    t.step = 150;
    ck_assert_double_eq_tol(t.learning_rate(), 1e-3 * 0.55, 1e-12); // half-way: (1 + 0.1) / 2
    t.record_schedule();
    t.config.schedule_from = 200;
    t.step = 200;
    ck_assert_double_eq_tol(t.learning_rate(), 1e-3, 1e-12);
    t.step = 250;
    ck_assert_double_eq_tol(t.learning_rate(), 1e-3 * 0.55, 1e-12);
    t.step = 400;
    ck_assert_double_eq_tol(t.learning_rate(), 1e-4, 1e-12);
    t.step = 200;
    t.record_schedule();
    t.record_schedule(); // unchanged: not repeated
    t.config.data.clip_fraction = 0.5;
    t.record_schedule(true); // another data mix: a new entry
    t.config.seed = 2;
    t.record_schedule(true); // another seed: a new entry
    t.config.data.patch = 12;
    t.record_schedule(true); // another patch size: a new entry
    t.fresh_optimizer = true;
    t.record_schedule(true); // unchanged, but a fresh optimiser: noted
    const std::string expected =
        "from step 150: cosine 0.001 to 0.0001 over steps 0-300, batch 2 of 8x8, seed 1; "
        "from step 200: cosine 0.001 to 0.0001 over steps 200-300, batch 2 of 8x8, seed 1; "
        "from step 200: cosine 0.001 to 0.0001 over steps 200-300, batch 2 of 8x8, 50% clip windows, seed 1; "
        "from step 200: cosine 0.001 to 0.0001 over steps 200-300, batch 2 of 8x8, 50% clip windows, seed 2; "
        "from step 200: cosine 0.001 to 0.0001 over steps 200-300, batch 2 of 12x12, 50% clip windows, seed 2; "
        "from step 200 (fresh Adam moments): cosine 0.001 to 0.0001 over steps 200-300, batch 2 of 12x12, 50% clip "
        "windows, seed 2";
    ck_assert_str_eq(t.schedule_history.c_str(), expected.c_str());
    ck_assert(!t.fresh_optimizer);

    const std::string dir = "ckpt-schedule-test";
    std::filesystem::remove_all(dir);
    t.save(dir);
    dsfn::Trainer u(cfg);
    u.load(dir);
    ck_assert_str_eq(u.schedule_history.c_str(), expected.c_str());
    std::filesystem::remove_all(dir);
}
END_TEST

namespace {

bool parse_words(std::vector<std::string> words, dsfn::TrainRun &run, std::string &error)
{
    words.insert(words.begin(), "dsfn-train");
    std::vector<char *> argv;
    for (auto &w : words)
        argv.push_back(w.data());
    return dsfn::parse_train_options(static_cast<int>(argv.size()), argv.data(), run, error);
}

std::vector<std::string> split(const std::string &line)
{
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;)
        words.push_back(w);
    return words;
}

} // namespace

// The option table: what a command line sets is what the recipe and the schedule
// record, and the recipe's command line, read back, is the same run.
START_TEST(test_options_table_round_trips)
{
    const std::vector<std::string> required = {"--photos", "P", "--checkpoint", "C", "--out", "O"};
    std::vector<std::string> words = required;
    for (const char *w : {"--clips",   "K",      "--width", "16", "--lr",        "3e-05", "--schedule-from", "94000",
                          "--steps",   "103000", "--batch", "4",  "--patch",     "32",    "--clip-fraction", "0.75",
                          "--seed",    "14",     "--noise", "0",  "--bicubic-a", "-0.6",  "--precision",     "bf16",
                          "--threads", "3"})
        words.push_back(w);
    dsfn::TrainRun run;
    std::string error;
    ck_assert_msg(parse_words(words, run, error), "%s", error.c_str());
    ck_assert_int_eq(run.threads, 3);
    const std::string command = dsfn::recipe_command(run);
    ck_assert_str_eq(command.c_str(),
                     "dsfn-train --clips DIR --width 16 --lr 3e-05 --schedule-from 94000 --steps 103000 "
                     "--batch 4 --patch 32 --clip-fraction 0.75 --seed 14 --noise 0 --bicubic-a -0.6 "
                     "--precision bf16");
    const std::string entry = dsfn::schedule_entry(run.train, true);
    ck_assert_str_eq(entry.c_str(),
                     "cosine 3e-05 to 3e-06 over steps 94000-103000, batch 4 of 32x32, 75% clip windows, "
                     "seed 14, noise std 0, bicubic a = -0.6, bf16 mixed precision");

    std::vector<std::string> again = split(command);
    again.erase(again.begin());
    again.insert(again.end(), required.begin(), required.end());
    dsfn::TrainRun reread;
    ck_assert_msg(parse_words(again, reread, error), "%s", error.c_str());
    ck_assert(dsfn::recipe_command(reread) == command);
    ck_assert(dsfn::schedule_entry(reread.train, true) == entry);

    // Step counts stay integers, however large.
    dsfn::TrainRun long_run;
    std::vector<std::string> long_words = required;
    long_words.insert(long_words.end(), {"--steps", "1200000", "--schedule-from", "1100000"});
    ck_assert_msg(parse_words(long_words, long_run, error), "%s", error.c_str());
    const std::string long_command = dsfn::recipe_command(long_run);
    ck_assert_msg(long_command.find("--schedule-from 1100000 --steps 1200000") != std::string::npos, "%s",
                  long_command.c_str());

    // Defaults leave the optional parts out; the usage text names every option.
    dsfn::TrainRun plain;
    ck_assert(parse_words(required, plain, error));
    const std::string plain_command = dsfn::recipe_command(plain);
    ck_assert_str_eq(plain_command.c_str(),
                     "dsfn-train --width 64 --lr 0.0002 --steps 100000 --batch 4 --patch 32 --seed 1");
    const std::string usage = dsfn::train_usage();
    for (const auto &o : dsfn::train_options()) {
        ck_assert_msg(usage.find(std::string(o.flag) + " ") != std::string::npos, "%s", o.flag);
        // A number in the usage text is the default: giving it changes nothing recorded.
        char *end = nullptr;
        std::strtod(o.value, &end);
        if (end == o.value || *end)
            continue;
        std::vector<std::string> with = required;
        with.insert(with.end(), {o.flag, o.value});
        dsfn::TrainRun given;
        ck_assert_msg(parse_words(with, given, error), "%s", error.c_str());
        ck_assert_msg(dsfn::recipe_command(given) == dsfn::recipe_command(plain), "%s", o.flag);
        ck_assert_msg(dsfn::schedule_entry(given.train, true) == dsfn::schedule_entry(plain.train, true), "%s", o.flag);
    }
}
END_TEST

START_TEST(test_options_errors_name_the_option)
{
    const std::vector<std::string> required = {"--photos", "P", "--checkpoint", "C", "--out", "O"};
    struct Case {
        std::vector<std::string> extra;
        const char *message;
    } cases[] = {
        {{"--steps", "many"}, "--steps many: not a valid value"},
        {{"--loss", "huber"}, "--loss huber: not a valid value (l1|mse)"},
        {{"--frobnicate", "1"}, "unknown option '--frobnicate'"},
        {{"--clip-fraction", "2"}, "--clip-fraction: value out of range"},
        {{"--steps", "100", "--schedule-from", "100"}, "--schedule-from: value out of range"},
        {{"--seed"}, "--seed needs a value"},
    };
    for (const auto &c : cases) {
        std::vector<std::string> words = required;
        words.insert(words.end(), c.extra.begin(), c.extra.end());
        dsfn::TrainRun run;
        std::string error;
        ck_assert(!parse_words(words, run, error));
        ck_assert_msg(error.find(c.message) != std::string::npos, "%s", error.c_str());
    }
    dsfn::TrainRun run;
    std::string error;
    ck_assert(!parse_words({"--photos", "P", "--out", "O"}, run, error));
    ck_assert_str_eq(error.c_str(), "--checkpoint is required");
}
END_TEST

extern "C" Suite *training_suite(void)
{
    Suite *s = suite_create("training");
    TCase *tc = tcase_create("trainer");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_degradation_is_mean_of_subframes);
    tcase_add_test(tc, test_bicubic_reduction_matches_ffmpeg);
    tcase_add_test(tc, test_noise_up_to_is_one_level_per_window);
    tcase_add_test(tc, test_batch_sizes_and_determinism);
    tcase_add_test(tc, test_clip_windows_blur_three_frames_two_apart);
    tcase_add_test(tc, test_clip_camera_moves_a_still_clip);
    tcase_add_test(tc, test_photo_levels_reduce_some_scenes);
    tcase_add_test(tc, test_clip_set_loads_frames_in_order);
    tcase_add_test(tc, test_training_lowers_loss);
    tcase_add_test(tc, test_mixed_precision);
    tcase_add_test(tc, test_squared_error_loss);
    tcase_add_test(tc, test_edge_mirror_loss);
    tcase_add_test(tc, test_int8_simulated_training);
    tcase_add_test(tc, test_distillation);
    tcase_add_test(tc, test_checkpoint_resumes_exactly);
    tcase_add_test(tc, test_init_from_weights_and_recipe);
    tcase_add_test(tc, test_warm_restart_schedule_and_history);
    tcase_add_test(tc, test_options_table_round_trips);
    tcase_add_test(tc, test_options_errors_name_the_option);
    suite_add_tcase(s, tc);
    return s;
}
