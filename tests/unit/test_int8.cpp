// precision=int8: the quantization arithmetic against LibTorch's float
// reference, the activation ranges file (every way it can be wrong is a clear
// error), and the int8 network against the float32 one it was calibrated on.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dsfn/engine.h"
#include "int8/activation_ranges.h"
#include "int8/fake_quant_runner.h"
#include "int8/int8_runner.h"
#include "int8/onednn_conv.h"
#include "int8/quantized_conv.h"
#include "int8/range_observer.h"
#include "kernels/deform_u8.h"
#include "kernels/quantize_u8.h"
#include "net/deform_conv.h"
#include "net/weights_file.h"
#include "tests.h"

namespace fs = std::filesystem;

namespace {

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

bool contains(const std::string &text, const std::string &part)
{
    return text.find(part) != std::string::npos;
}

// A copy of the width-4 fixture in a folder of its own.
std::string copied_model(const std::string &folder)
{
    fs::remove_all(folder);
    fs::create_directories(folder);
    const std::string path = folder + "/m.dsfn";
    fs::copy_file(fixture_model(4), path);
    return path;
}

// Smooth random frames [1, 3, h, w] in [0, 1]: three for level 1, a fourth for level 2.
std::vector<torch::Tensor> frames(int64_t h, int64_t w, uint64_t seed)
{
    torch::manual_seed(seed);
    std::vector<torch::Tensor> out;
    for (int i = 0; i < 4; i++)
        out.push_back(torch::nn::functional::interpolate(torch::rand({1, 3, h / 4, w / 4}),
                                                         torch::nn::functional::InterpolateFuncOptions()
                                                             .size(std::vector<int64_t>{h, w})
                                                             .mode(torch::kBilinear)
                                                             .align_corners(false)));
    return out;
}

std::array<torch::Tensor, 3> level2(dsfn::NetworkImpl &net, const std::vector<torch::Tensor> &f)
{
    return net.level2(net.level1(f[0], f[1], f[2]), net.level1(f[1], f[2], f[3]));
}

// Ranges measured on the fixture over a few frame sets, written beside it.
dsfn::ActivationRanges calibrate(const std::string &model)
{
    torch::NoGradGuard no_grad;
    auto net = dsfn::load_weights(model);
    net->eval();
    auto observer = std::make_shared<dsfn::RangeObserver>();
    net->run_convs_with(observer);
    for (uint64_t seed = 1; seed <= 3; seed++)
        level2(*net, frames(24, 32, seed));
    dsfn::ActivationRanges ranges;
    ranges.weights_digest = dsfn::weights_digest(model);
    ranges.points = observer->ranges();
    dsfn::write_activation_ranges(dsfn::int8_ranges_path(model), ranges, "test ranges");
    return ranges;
}

START_TEST(test_quant_params)
{
    auto q = dsfn::quant_params(-1.0, 3.0);
    ck_assert(std::fabs(q.scale - 4.0 / 255) < 1e-12);
    ck_assert_int_eq(q.zero_point, 64); // round(1 / (4 / 255)) = round(63.75)
    q = dsfn::quant_params(0.5, 2.0);   // widened to hold 0: zero padding stays exact
    ck_assert(std::fabs(q.scale - 2.0 / 255) < 1e-12);
    ck_assert_int_eq(q.zero_point, 0);
    q = dsfn::quant_params(-2.0, -0.5);
    ck_assert_int_eq(q.zero_point, 255);
    q = dsfn::quant_params(0.0, 0.0);
    ck_assert(q.scale == 1.0 && q.zero_point == 0);
    ck_assert(contains(error_of([] { dsfn::quant_params(0.0, INFINITY); }), "not finite"));
}
END_TEST

// quantize_u8 gives LibTorch's quantize_per_tensor integers (to one step at an
// exact tie) and dequantize_u8 its values, in every layout, and values outside
// the range clamp to its ends.
START_TEST(test_quantize_matches_libtorch)
{
    torch::manual_seed(7);
    const auto q = dsfn::quant_params(-0.7, 1.3);
    for (bool channels_last : {false, true}) {
        auto x = torch::rand({2, 5, 7, 9}) * 2.4 - 0.9; // beyond the range on both sides
        if (channels_last)
            x = x.contiguous(at::MemoryFormat::ChannelsLast);
        const auto ours = dsfn::quantize_u8(x, q);
        const auto theirs = at::quantize_per_tensor(x, q.scale, q.zero_point, torch::kQUInt8);
        ck_assert(ours.is_contiguous(at::MemoryFormat::ChannelsLast));
        ck_assert(ours.q_scale() == q.scale && ours.q_zero_point() == q.zero_point);
        const auto diff = (ours.int_repr().to(torch::kInt) - theirs.int_repr().to(torch::kInt)).abs();
        ck_assert_int_le(diff.max().item<int>(), 1);
        ck_assert_int_le(diff.sum().item<int>(), 2);
        const auto back = dsfn::dequantize_u8(ours);
        ck_assert(torch::allclose(back, ours.dequantize(), 0, 1e-6));
        // Inside the range, within half a step of the input.
        const auto inside = (x >= -0.7) & (x <= 1.3);
        ck_assert((back - x).abs().masked_select(inside).max().item<double>() <= q.scale / 2 + 1e-6);
        ck_assert(std::fabs(back.min().item<double>() - (-q.zero_point * q.scale)) < 1e-6);
        ck_assert(std::fabs(back.max().item<double>() - (255 - q.zero_point) * q.scale) < 1e-6);
    }
    ck_assert(contains(error_of([] { dsfn::dequantize_u8(torch::zeros({2})); }), "quint8"));
}
END_TEST

// Parts concatenated along their channels while they are quantized give the
// bytes of their concatenation quantized, whatever each part's layout; parts
// that differ in more than their channels are an error.
START_TEST(test_quantize_channels)
{
    torch::manual_seed(8);
    const auto q = dsfn::quant_params(-0.5, 1.5);
    const auto a = torch::rand({2, 3, 5, 7}) * 2 - 0.5;
    const auto b = (torch::rand({2, 16, 5, 7}) * 2 - 0.5).contiguous(at::MemoryFormat::ChannelsLast);
    const auto c = torch::rand({2, 1, 5, 7}).to(torch::kBFloat16);
    const auto ours = dsfn::quantize_u8_channels({a, b, c}, q);
    const auto whole = dsfn::quantize_u8(torch::cat({a, b, c.to(torch::kFloat)}, 1), q);
    ck_assert(ours.sizes() == whole.sizes() && ours.is_contiguous(at::MemoryFormat::ChannelsLast));
    ck_assert(ours.q_scale() == q.scale && ours.q_zero_point() == q.zero_point);
    ck_assert(torch::equal(ours.int_repr(), whole.int_repr()));
    ck_assert(contains(error_of([&] { dsfn::quantize_u8_channels({a, torch::rand({2, 3, 5, 6})}, q); }), "differ"));
    ck_assert(contains(error_of([&] { dsfn::quantize_u8_channels({}, q); }), "nothing"));
}
END_TEST

// A residual sum in float32, with its 8-bit copy: a + b exactly as LibTorch
// computes it, and the copy as quantize_u8 makes it, for b in float or in bytes.
START_TEST(test_residual_sum)
{
    torch::manual_seed(3);
    const auto qa = dsfn::quant_params(-1.0, 2.0), qb = dsfn::quant_params(-0.5, 0.5), out = dsfn::quant_params(-2, 3);
    const auto a = dsfn::quantize_u8(torch::rand({2, 6, 5, 7}) * 3 - 1, qa);
    const auto b = (torch::rand({2, 6, 5, 7}) - 0.5).contiguous(at::MemoryFormat::ChannelsLast);
    for (const auto &other : {b, dsfn::quantize_u8(b, qb)}) {
        const auto sum = dsfn::residual_sum_u8(a, other, out);
        const auto want = a.dequantize() + (other.is_quantized() ? other.dequantize() : other);
        ck_assert(sum.value.scalar_type() == torch::kFloat);
        ck_assert(torch::allclose(sum.value, want, 1e-6, 1e-6));
        ck_assert(sum.bytes.q_scale() == out.scale && sum.bytes.q_zero_point() == out.zero_point);
        const auto diff =
            (sum.bytes.int_repr().to(torch::kInt) - dsfn::quantize_u8(want, out).int_repr().to(torch::kInt));
        ck_assert_int_le(diff.abs().max().item<int>(), 1);
    }
    ck_assert(contains(error_of([&] { dsfn::residual_sum_u8(a, b.narrow(0, 0, 1), out); }), "differ in size"));
}
END_TEST

START_TEST(test_ranges_file)
{
    const auto model = copied_model("int8-file");
    const auto ranges = calibrate(model);
    const auto path = dsfn::int8_ranges_path(model);
    ck_assert_str_eq(path.c_str(), "int8-file/m.dsfn.int8");
    const auto back = dsfn::read_activation_ranges(path, model);
    ck_assert(back.weights_digest == ranges.weights_digest);
    ck_assert_int_eq(back.points.size(), ranges.points.size());
    for (const auto &[point, range] : ranges.points) {
        ck_assert(std::fabs(back.points.at(point).lo - range.lo) <= 1e-6 * (1 + std::fabs(range.lo)));
        ck_assert(std::fabs(back.points.at(point).hi - range.hi) <= 1e-6 * (1 + std::fabs(range.hi)));
    }
    // Every point the int8 arithmetic quantizes was measured, and nothing else.
    const auto points = dsfn::int8_points(*dsfn::load_weights(model));
    ck_assert_int_eq(points.size(), ranges.points.size());
    for (const auto &p : points)
        ck_assert(ranges.points.count(p));

    std::ifstream in(path);
    const std::string good((std::istreambuf_iterator<char>(in)), {});
    auto with = [&](const std::string &text) {
        std::ofstream(path) << text;
        return error_of([&] { dsfn::read_activation_ranges(path, model); });
    };
    const auto header_end = good.find("weights ");
    ck_assert(contains(with(""), "not a dsfn int8 ranges file"));
    ck_assert(contains(with("P6\n3 2\n255\n"), "not a dsfn int8 ranges file"));
    ck_assert(contains(with("dsfn-int8 7\n"), "version 7"));
    ck_assert(contains(with(good.substr(0, header_end)), "no \"weights\" line"));
    ck_assert(contains(with(good + "dsfn1.input 1 nan\n"), "LOW HIGH"));
    ck_assert(contains(with(good + "dsfn1.input 2 1\n"), "LOW HIGH"));
    ck_assert(contains(with(good + "dsfn1.input 0 1 9\n"), "LOW HIGH"));
    ck_assert(contains(with(good + "dsfn1.input -1e300 1e300\n"), "within +-1e6"));
    ck_assert(contains(with(good + "dsfn1.input 0 1\n"), "given twice"));
    ck_assert(contains(with(good.substr(0, good.size() / 2)), "line")); // truncated mid-line
    std::string other = good;
    other.replace(header_end + 8, 16, "0123456789abcdef");
    ck_assert(contains(with(other), "other weights"));
    // A point missing: the network cannot be run.
    std::string missing = good;
    const auto at = missing.find("dsfn1.input ");
    missing.erase(at, missing.find('\n', at) - at + 1);
    std::ofstream(path) << missing;
    auto net = dsfn::load_weights(model);
    ck_assert(contains(error_of([&] { dsfn::Int8Runner(*net, dsfn::read_activation_ranges(path, model), path); }),
                       "no range for dsfn1.input"));
    fs::remove(path);
    ck_assert(contains(error_of([&] { dsfn::read_activation_ranges(path, model); }), "dsfn-tool quantize"));
    fs::remove_all("int8-file");
}
END_TEST

// Both backends of an int8 convolution against float32 arithmetic on the very
// values they multiply (the 8-bit input read back, the 8-bit weights read back):
// a float32 output to float rounding, an 8-bit one to a step, LeakyReLU
// included; at odd sizes and a batch, and again at a second size (oneDNN makes
// a primitive per size). oneDNN where this build calls it directly (Debian's
// LibTorch); elsewhere, constructing it is a clear error.
START_TEST(test_quantized_conv_backends)
{
    torch::NoGradGuard no_grad;
    torch::manual_seed(11);
    const auto weight = torch::randn({8, 6, 3, 3}) * 0.2;
    const auto bias = torch::randn({8}) * 0.3;
    const auto in = dsfn::quant_params(-0.6, 1.4), out = dsfn::quant_params(-2.5, 3.0);
    const auto wq = dsfn::quantize_weight_per_channel(weight).dequantize();
    std::vector<std::unique_ptr<dsfn::QuantizedConv>> convs;
    convs.push_back(std::make_unique<dsfn::TorchQuantizedConv>(weight, bias));
    if (dsfn::onednn_available())
        convs.push_back(std::make_unique<dsfn::OnednnConv>(weight, bias));
    else
        ck_assert(contains(error_of([&] { dsfn::OnednnConv(weight, bias); }), "does not call oneDNN"));
    for (const auto &size : std::vector<std::array<int64_t, 3>>{{2, 5, 7}, {1, 9, 4}}) {
        const auto x = dsfn::quantize_u8(torch::rand({size[0], 6, size[1], size[2]}) * 2 - 0.6, in);
        const auto reference = torch::conv2d(x.dequantize(), wq, bias, 1, 1);
        for (size_t b = 0; b < convs.size(); b++) {
            const auto &conv = *convs[b];
            // LibTorch's engine rounds its float output to 8 bits first.
            const double float_tolerance = b == 0 ? out.scale / 2 + 1e-5 : 1e-4;
            const auto as_float = conv.to_float(x, out);
            ck_assert(as_float.scalar_type() == torch::kFloat && as_float.sizes() == reference.sizes());
            ck_assert(as_float.is_contiguous(at::MemoryFormat::ChannelsLast));
            const auto inside = (reference > -2.4) & (reference < 2.9);
            ck_assert_msg((as_float - reference).abs().masked_select(inside).max().item<double>() <= float_tolerance,
                          "backend %zu: float output off", b);
            // Added onto float32 sums (the residual bases), which it is written over.
            const auto onto = torch::randn(reference.sizes()).contiguous(at::MemoryFormat::ChannelsLast);
            const auto sums = conv.add_float_into(x, out, onto.clone());
            ck_assert_msg((sums - onto - as_float).abs().max().item<double>() <= 1e-5, "backend %zu: sums off", b);
            if (b == 1) // sums of another layout or size: a clear error, nothing written
                for (const auto &bad : {torch::zeros(reference.sizes()), torch::zeros({1, 8, 3, 3})})
                    ck_assert(contains(error_of([&] { conv.add_float_into(x, out, bad); }), "sums"));
            for (bool leaky : {false, true}) {
                const auto bytes = conv.to_u8(x, out, leaky);
                ck_assert(bytes.scalar_type() == torch::kQUInt8);
                ck_assert(bytes.q_scale() == out.scale && bytes.q_zero_point() == out.zero_point);
                const auto want = leaky ? torch::leaky_relu(reference, dsfn::kLeakySlope) : reference;
                const auto diff = (bytes.dequantize() - want).abs().masked_select(inside);
                ck_assert_msg(diff.max().item<double>() <= out.scale * 1.01, "backend %zu, leaky %d: %g", b, leaky,
                              diff.max().item<double>());
            }
        }
    }
}
END_TEST

// The 8-bit warp gives the codes of its float simulation (each sample rounded to
// the input's grid, the weights to 8 bits: deform_conv3x3_rounded_samples) but
// where a rounding falls the other way at a tie: at 8 channels in plain integer
// loops, at 32 and 64 in VNNI's where the CPU has it. The offsets reach past the
// picture, so samples outside it (the zero point's code) are checked too.
START_TEST(test_int8_warp)
{
    torch::NoGradGuard no_grad;
    torch::manual_seed(7);
    for (const int64_t c : {8, 32, 64}) {
        const int64_t n = 2, h = 7, w = 13; // rows that end in a part of a tile
        const auto features = torch::randn({n, c, h, w});
        const auto in = dsfn::quant_params(features.min().item<double>(), features.max().item<double>());
        const auto codes = dsfn::quantize_u8(features, in);
        const auto offset = torch::randn({n, 18, h, w}) * 2.5;
        const auto weight = dsfn::quantize_weight_per_channel(torch::randn({c, c, 3, 3}) * 0.1);
        const auto bias = torch::randn({c}) * 0.1;
        const auto simulated = dsfn::deform_conv3x3_rounded_samples(
            dsfn::dequantize_u8(codes), offset, weight.dequantize(), bias, {in.scale, in.zero_point});
        const auto out = dsfn::quant_params(simulated.min().item<double>(), simulated.max().item<double>());
        const auto want = dsfn::quantize_u8(simulated, out).int_repr().to(torch::kInt);
        const dsfn::DeformConvU8 warp(weight, bias);
        const auto got = warp(codes, offset, out);
        ck_assert(got.q_scale() == out.scale && got.q_zero_point() == out.zero_point);
        const auto diff = (got.int_repr().to(torch::kInt) - want).abs();
        const double differ = diff.gt(0).to(torch::kDouble).mean().item<double>();
        ck_assert_msg(diff.max().item<int>() <= 1 && differ < 0.01,
                      "%lld channels (VNNI %d): %.2f%% of codes differ, by up to %d", static_cast<long long>(c),
                      warp.uses_vnni(), 100 * differ, diff.max().item<int>());
    }
    // Float features, or offsets of another size, are a clear error.
    const dsfn::DeformConvU8 warp(dsfn::quantize_weight_per_channel(torch::randn({8, 8, 3, 3})), torch::Tensor());
    const auto codes = dsfn::quantize_u8(torch::rand({1, 8, 5, 5}), dsfn::quant_params(0, 1));
    ck_assert(contains(error_of([&] { warp(codes.dequantize(), torch::zeros({1, 18, 5, 5}), {}); }), "quint8"));
    ck_assert(contains(error_of([&] { warp(codes, torch::zeros({1, 18, 4, 5}), {}); }), "offset"));
}
END_TEST

// The int8 network gives the float32 network's pictures to within what 8 bits
// allow, on frames its ranges never saw.
START_TEST(test_int8_against_fp32)
{
    torch::NoGradGuard no_grad;
    const auto model = copied_model("int8-net");
    const auto ranges = calibrate(model);
    auto net = dsfn::load_weights(model);
    net->eval();
    const auto f = frames(24, 32, 99);
    const auto reference = level2(*net, f);
    net->run_convs_with(std::make_shared<dsfn::Int8Runner>(*net, ranges, "ranges"));
    const auto quantized = level2(*net, f);
    for (int i = 0; i < 3; i++) {
        ck_assert(quantized[i].scalar_type() == torch::kFloat);
        ck_assert(quantized[i].sizes() == reference[i].sizes());
        const double mse = (quantized[i] - reference[i]).pow(2).mean().item<double>();
        const double psnr = 10 * std::log10(1 / mse);
        ck_assert_msg(psnr > 35, "int8 map %d is %.1f dB from fp32", i, psnr);
        ck_assert(!torch::equal(quantized[i], reference[i])); // the int8 arithmetic ran
    }
    fs::remove_all("int8-net");
}
END_TEST

// Quantization-aware training simulates the int8 arithmetic of the oneDNN
// backend: its outputs are as far from float32's as that int8 network's, and
// nearer to those than to float32's (roundings that fall the other way at a tie
// spread, so not equal), and its gradients reach the weights through every
// rounding. A build whose int8 is LibTorch's engine (a CUDA build) has no such
// network to compare with: there the gradients alone are checked.
START_TEST(test_fake_quant_matches_int8)
{
    const auto model = copied_model("int8-fake");
    const auto ranges = calibrate(model);
    auto net = dsfn::load_weights(model);
    net->eval();
    const auto f = frames(24, 32, 98);
    const auto fake = std::make_shared<dsfn::FakeQuantRunner>(*net, ranges, "ranges");
    if (dsfn::onednn_available()) {
        torch::NoGradGuard no_grad;
        const auto reference = level2(*net, f);
        net->run_convs_with(std::make_shared<dsfn::Int8Runner>(*net, ranges, "ranges"));
        const auto quantized = level2(*net, f);
        net->run_convs_with(fake);
        const auto simulated = level2(*net, f);
        const auto mse = [](const torch::Tensor &a, const torch::Tensor &b) {
            return (a - b).pow(2).mean().item<double>();
        };
        for (int i = 0; i < 3; i++) {
            const double int8_error = mse(quantized[i], reference[i]);
            const double simulated_error = mse(simulated[i], reference[i]);
            ck_assert_msg(simulated_error > 0.8 * int8_error && simulated_error < 1.25 * int8_error,
                          "map %d: simulated %.3g from fp32, int8 %.3g", i, simulated_error, int8_error);
            ck_assert_msg(mse(simulated[i], quantized[i]) < int8_error,
                          "map %d: simulated %.3g from int8, int8 %.3g from fp32", i, mse(simulated[i], quantized[i]),
                          int8_error);
        }
    }

    net->run_convs_with(fake);
    net->train();
    {
        // Offsets of zero would keep the gradient from the branch that makes them.
        torch::NoGradGuard no_grad;
        for (auto &p : net->named_parameters())
            if (p.key().find("offsets.weight") != std::string::npos)
                p.value().normal_(0, 1e-3);
    }
    const auto maps = level2(*net, f);
    (maps[0].sum() + maps[1].sum() + maps[2].sum()).backward();
    for (const auto &p : net->named_parameters()) {
        ck_assert_msg(p.value().grad().defined(), "no gradient for %s", p.key().c_str());
        ck_assert_msg(p.value().grad().abs().sum().item<double>() > 0, "zero gradient for %s", p.key().c_str());
    }
    fs::remove_all("int8-fake");
}
END_TEST

// Through the C API: int8 without its ranges, or with bad ones, is an error
// that names the file; with them, the engine runs in int8 and says so.
START_TEST(test_engine_int8)
{
    const auto model = copied_model("int8-engine");
    DSFNEngineConfig cfg = dsfn_engine_default_config();
    cfg.model_path = model.c_str();
    cfg.precision = DSFN_PRECISION_INT8;
    cfg.threads = 1;
    cfg.adapt_threads = 0;
    DSFNEngine *engine = nullptr;
    char err[512];
    ck_assert_int_lt(dsfn_engine_create(&engine, &cfg, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "m.dsfn.int8"));
    ck_assert_ptr_nonnull(strstr(err, "dsfn-tool quantize"));
    std::ofstream(dsfn::int8_ranges_path(model)) << "dsfn-int8 1\nweights 00\n";
    ck_assert_int_lt(dsfn_engine_create(&engine, &cfg, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "16 hex digits"));

    calibrate(model);
    ck_assert_int_eq(dsfn_engine_create(&engine, &cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(dsfn_engine_precision(engine, nullptr), DSFN_PRECISION_INT8);
    dsfn_engine_free(&engine);
    fs::remove_all("int8-engine");
}
END_TEST

} // namespace

extern "C" Suite *int8_suite(void)
{
    Suite *s = suite_create("int8");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_quant_params);
    tcase_add_test(tc, test_quantize_matches_libtorch);
    tcase_add_test(tc, test_quantize_channels);
    tcase_add_test(tc, test_residual_sum);
    tcase_add_test(tc, test_quantized_conv_backends);
    tcase_add_test(tc, test_int8_warp);
    tcase_add_test(tc, test_ranges_file);
    tcase_add_test(tc, test_int8_against_fp32);
    tcase_add_test(tc, test_fake_quant_matches_int8);
    tcase_add_test(tc, test_engine_int8);
    suite_add_tcase(s, tc);
    return s;
}
