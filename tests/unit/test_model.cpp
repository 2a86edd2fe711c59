// Network: deformable conv against the direct reference, shapes, size, widening; the output picture conversion.
#include <cmath>
#include <vector>

#include "net/deform_conv.h"
#include "kernels/concat_channels.h"
#include "kernels/deform_sample.h"
#include "net/dsfn_net.h"
#include "kernels/map_to_picture.h"
#include "net/mirror_edges.h"
#include "onednn/float_runner.h"
#include "tools/widen.h"
#include "tests.h"

namespace {

double max_abs_diff(const torch::Tensor &a, const torch::Tensor &b)
{
    return (a - b).abs().max().item<double>();
}

// Whether fn throws an E.
template <typename E, typename Fn>
bool throws(Fn &&fn)
{
    try {
        fn();
    } catch (const E &) {
        return true;
    }
    return false;
}

void check_against_reference(int64_t n, int64_t c, int64_t co, int64_t h, int64_t w, double offset_range)
{
    auto input = torch::randn({n, c, h, w});
    auto offset = (torch::rand({n, 18, h, w}) * 2 - 1) * offset_range; // reaches outside the picture
    auto weight = torch::randn({co, c, 3, 3});
    auto bias = torch::randn({co});
    auto slow = dsfn::deform_conv3x3_reference(input, offset, weight, bias);
    // Inference (the fused sampler) and training (stock ops under autograd).
    auto fused = dsfn::deform_conv3x3(input, offset, weight, bias);
    auto trainable = weight.clone().requires_grad_(true);
    auto autograd = dsfn::deform_conv3x3(input, offset, trainable, bias).detach();
    for (const auto &fast : {fused, autograd}) {
        ck_assert(fast.sizes() == slow.sizes());
        ck_assert_msg(max_abs_diff(fast, slow) < 1e-4, "deform conv differs from reference by %g",
                      max_abs_diff(fast, slow));
    }
    // The engine's layout: channels-last input and offsets.
    auto last = dsfn::deform_conv3x3(input.contiguous(at::MemoryFormat::ChannelsLast),
                                     offset.contiguous(at::MemoryFormat::ChannelsLast), weight, bias);
    ck_assert(max_abs_diff(last, slow) < 1e-4);
}

} // namespace

START_TEST(test_deform_conv_matches_reference)
{
    torch::manual_seed(1);
    check_against_reference(2, 3, 4, 6, 7, 2.5);
    check_against_reference(1, 5, 2, 9, 4, 0.6);
    check_against_reference(1, 2, 3, 1, 5, 1.5); // one row
    check_against_reference(1, 2, 3, 4, 1, 1.5); // one column
    check_against_reference(1, 2, 3, 3, 3, 8.0); // everything far outside
}
END_TEST

START_TEST(test_deform_conv_wide_channels_and_bf16)
{
    torch::manual_seed(6);
    check_against_reference(1, 37, 5, 7, 19, 3.0);  // channel loops with a remainder
    check_against_reference(1, 64, 64, 6, 10, 1.0); // the shipped model's warp width
    // fp32 with 32 or 64 channels in and out samples and multiplies tiles of 8 or 6
    // pixels itself: rows that end in part of a tile, a batch, offsets far outside.
    check_against_reference(2, 32, 32, 5, 13, 2.0);
    check_against_reference(1, 32, 32, 3, 3, 6.0);
    check_against_reference(1, 64, 64, 2, 7, 8.0);
    // bf16 at the warp widths (tiles of 16 pixels on AMX, of 8 or 6 with AVX512-BF16,
    // where the CPU has them) and not; rows of part of a tile, and of whole tiles and part.
    // Where AMX runs, the AVX512-BF16 product runs too, with AMX turned off.
    const bool amx = dsfn::amx_tiles_in_use();
    for (const bool use_amx : {true, false}) {
        if (use_amx && !amx)
            continue;
        dsfn::allow_amx_tiles(use_amx);
        for (const int64_t c : {64, 32, 24})
            for (const int64_t w : {10, 37}) {
                auto input = torch::randn({1, c, 3, w});
                auto offset = torch::randn({1, 18, 3, w});
                auto weight = torch::randn({c, c, 3, 3}) * 0.05, bias = torch::randn({c});
                auto want = dsfn::deform_conv3x3(input, offset, weight, bias);
                auto got = dsfn::deform_conv3x3(input.to(torch::kBFloat16), offset, weight.to(torch::kBFloat16),
                                                bias.to(torch::kBFloat16));
                ck_assert(got.scalar_type() == torch::kBFloat16);
                const double rel = max_abs_diff(got.to(torch::kFloat), want) / want.abs().max().item<double>();
                ck_assert_msg(rel < 0.02, "bf16 deform conv (%d channels, AMX %d) off by %g of the range", (int)c,
                              (int)use_amx, rel);
                // fp32 features into a bf16 product (sampled in fp32, rounded on the way out).
                auto mixed =
                    dsfn::deform_conv3x3(input, offset, weight.to(torch::kBFloat16), bias.to(torch::kBFloat16));
                const double rel_mixed = max_abs_diff(mixed.to(torch::kFloat), want) / want.abs().max().item<double>();
                ck_assert_msg(rel_mixed < 0.02, "fp32 -> bf16 deform conv (%d channels, AMX %d) off by %g of the range",
                              (int)c, (int)use_amx, rel_mixed);
            }
    }
    dsfn::allow_amx_tiles(true);
    ck_assert(dsfn::amx_tiles_in_use() == amx);
}
END_TEST

// deform_conv3x3_into writes into a slice of a batch (the float runner's decoder
// input), fp32 and bf16, fused tiles (32 channels) and im2col bands (24); a place
// of the wrong type or shape is an error, not a write past it.
START_TEST(test_deform_conv_into_a_batch_slice)
{
    torch::manual_seed(8);
    for (const auto type : {torch::kFloat, torch::kBFloat16})
        for (const int64_t c : {32, 24}) {
            auto input = torch::randn({1, c, 5, 19}).to(type);
            auto offset = torch::randn({1, 18, 5, 19});
            auto weight = (torch::randn({c, c, 3, 3}) * 0.05).to(type), bias = torch::randn({c}).to(type);
            auto want = dsfn::deform_conv3x3(input, offset, weight, bias);
            auto batch = torch::full({3, c, 5, 19}, 7.0, torch::TensorOptions().dtype(type))
                             .contiguous(at::MemoryFormat::ChannelsLast);
            dsfn::deform_conv3x3_into(input, offset, weight, bias, batch.narrow(0, 1, 1));
            ck_assert(torch::equal(batch.narrow(0, 1, 1), want));
            ck_assert(torch::all(batch.narrow(0, 0, 1) == 7).item<bool>());
            ck_assert(torch::all(batch.narrow(0, 2, 1) == 7).item<bool>());
        }
    auto input = torch::randn({1, 32, 5, 19});
    auto weight = torch::randn({32, 32, 3, 3}), bias = torch::randn({32});
    auto offset = torch::zeros({1, 18, 5, 19});
    bool refused = false;
    try {
        dsfn::deform_conv3x3_into(input, offset, weight, bias, torch::empty({1, 32, 5, 18}));
    } catch (const c10::Error &) {
        refused = true;
    }
    ck_assert_msg(refused, "a place of the wrong shape was written");
    refused = false;
    try {
        dsfn::deform_conv3x3_into(
            input, offset, weight, bias,
            torch::empty({1, 32, 5, 19}, torch::kBFloat16).contiguous(at::MemoryFormat::ChannelsLast));
    } catch (const c10::Error &) {
        refused = true;
    }
    ck_assert_msg(refused, "a place of the wrong type was written");
}
END_TEST

// Offsets that are a half of the offsets convolution's channels-last output are read
// where they are (pixels 36 floats apart) and give exactly what packed ones give:
// fused tiles (32 channels, fp32 and bf16) and im2col bands (24), batches of two.
START_TEST(test_deform_conv_offsets_read_in_place)
{
    torch::manual_seed(10);
    auto fields = (torch::randn({2, 36, 4, 21}) * 2).contiguous(at::MemoryFormat::ChannelsLast);
    const auto halves = fields.chunk(2, 1);
    const auto view = dsfn::offset_rows(halves[1]);
    ck_assert_int_eq(view.stride, 36);
    ck_assert(view.values.data_ptr() == halves[1].data_ptr()); // no copy
    ck_assert_int_eq(dsfn::offset_rows(halves[1].contiguous()).stride, 18);
    for (const auto type : {torch::kFloat, torch::kBFloat16})
        for (const int64_t c : {32, 24}) {
            auto input = torch::randn({2, c, 4, 21}).to(type);
            auto weight = (torch::randn({c, c, 3, 3}) * 0.05).to(type), bias = torch::randn({c}).to(type);
            for (const auto &half : halves) {
                auto strided = dsfn::deform_conv3x3(input, half, weight, bias);
                auto packed = dsfn::deform_conv3x3(input, half.contiguous(), weight, bias);
                ck_assert_msg(torch::equal(strided, packed), "offsets read in place differ (%d channels)", (int)c);
            }
        }
}
END_TEST

// concat_channels gives exactly LibTorch's conversion and concatenation: float32
// and bf16, parts channels-last, NCHW or already bf16; misfits are errors.
START_TEST(test_concat_channels_matches_cat)
{
    torch::manual_seed(9);
    // Values that round both ways in bf16, ties included.
    auto a = torch::randn({2, 48, 5, 7}) * 3;
    a.view({-1}).narrow(0, 0, 4).copy_(torch::tensor({1.00390625f, 1.01171875f, -0.0f, 65504.f}));
    a = a.contiguous(at::MemoryFormat::ChannelsLast);
    auto b = torch::randn({2, 3, 5, 7}); // NCHW
    auto c = torch::randn({2, 16, 5, 7}).to(torch::kBFloat16);
    for (const auto type : {torch::kFloat, torch::kBFloat16}) {
        auto want = torch::cat({a.to(type), b.to(type), c.to(type)}, 1);
        auto got = dsfn::concat_channels({a, b, c}, type);
        ck_assert(got.scalar_type() == type && got.is_contiguous(at::MemoryFormat::ChannelsLast));
        ck_assert_msg(torch::equal(got, want), "concat_channels differs from cat in %s",
                      type == torch::kFloat ? "float32" : "bf16");
    }
    bool refused = false;
    try {
        dsfn::concat_channels({a, torch::randn({2, 3, 5, 6})}, torch::kBFloat16);
    } catch (const std::invalid_argument &) {
        refused = true;
    }
    ck_assert_msg(refused, "parts of different sizes were concatenated");
    refused = false;
    try {
        dsfn::concat_channels({a}, torch::kHalf);
    } catch (const std::invalid_argument &) {
        refused = true;
    }
    ck_assert_msg(refused, "a type other than float32 and bf16 was accepted");
}
END_TEST

// Wide pictures run in bands of ~4 MB of im2col rows, each sampled and multiplied
// on its own: 300 columns at 64 channels make bands of 6 rows, the last ones
// crossing from the first picture of the batch into the second.
START_TEST(test_deform_conv_bands_match_whole_matrix)
{
    torch::manual_seed(9);
    c10::InferenceMode guard;
    auto input = torch::randn({2, 64, 9, 300});
    auto offset = torch::randn({2, 18, 9, 300}) * 2;
    auto weight = torch::randn({8, 64, 3, 3}) * 0.05, bias = torch::randn({8});
    auto cols = dsfn::deform_im2col(input, offset, torch::kFloat).contiguous();
    auto wmat = weight.permute({0, 2, 3, 1}).reshape({8, 9 * 64, 1, 1}).contiguous();
    auto want = torch::conv2d(cols, wmat, bias);
    auto got = dsfn::deform_conv3x3(input, offset, weight, bias);
    ck_assert(got.sizes() == want.sizes());
    ck_assert_msg(max_abs_diff(got, want) < 1e-3, "banded deform conv differs by %g", max_abs_diff(got, want));
}
END_TEST

// Offsets come from the network: non-finite ones must give zeros, not a crash.
START_TEST(test_deform_conv_non_finite_offsets)
{
    auto input = torch::randn({1, 3, 4, 5});
    auto offset = torch::zeros({1, 18, 4, 5});
    offset[0][0][1][1] = std::nanf("");
    offset[0][3][2][2] = INFINITY;
    offset[0][4][0][0] = -1e30f;
    auto weight = torch::randn({2, 3, 3, 3}), bias = torch::zeros({2});
    auto got = dsfn::deform_conv3x3(input, offset, weight, bias);
    ck_assert(torch::isfinite(got).all().item<bool>());
    // The same through the fused tiles (32 channels in and out).
    auto wide = torch::randn({1, 32, 4, 5});
    auto fused = dsfn::deform_conv3x3(wide, offset, torch::randn({32, 32, 3, 3}), torch::zeros({32}));
    ck_assert(torch::isfinite(fused).all().item<bool>());
}
END_TEST

START_TEST(test_deform_conv_zero_offset_is_conv)
{
    torch::manual_seed(2);
    auto input = torch::randn({1, 4, 8, 5});
    auto weight = torch::randn({6, 4, 3, 3});
    auto bias = torch::randn({6});
    auto got = dsfn::deform_conv3x3(input, torch::zeros({1, 18, 8, 5}), weight, bias);
    auto want = torch::conv2d(input, weight, bias, 1, 1);
    ck_assert(max_abs_diff(got, want) < 1e-4);
}
END_TEST

START_TEST(test_deform_conv_offsets_get_gradients)
{
    torch::manual_seed(3);
    auto input = torch::randn({1, 2, 5, 5});
    auto offset = (torch::rand({1, 18, 5, 5}) - 0.5).requires_grad_(true);
    dsfn::DeformConv3x3 conv(2, 3);
    conv->forward(input, offset).sum().backward();
    ck_assert(offset.grad().defined());
    ck_assert(offset.grad().abs().sum().item<double>() > 0);
}
END_TEST

START_TEST(test_network_shapes)
{
    torch::manual_seed(4);
    dsfn::Architecture arch;
    arch.width = 4;
    dsfn::Network net(arch);
    torch::NoGradGuard no_grad;
    const int64_t h = 5, w = 7;
    auto frame = [&] { return torch::rand({2, 3, h, w}); };
    auto a = net->level1(frame(), frame(), frame());
    auto b = net->level1(frame(), frame(), frame());
    for (const auto &m : a)
        ck_assert(m.sizes() == torch::IntArrayRef({2, 48, h, w}));
    auto out = net->level2(a, b);
    for (const auto &m : out) {
        ck_assert(m.sizes() == torch::IntArrayRef({2, 48, h, w}));
        ck_assert(net->to_image(m).sizes() == torch::IntArrayRef({2, 3, 4 * h, 4 * w}));
    }
}
END_TEST

START_TEST(test_residual_bases)
{
    // With the decoders' last convs zeroed, each level returns its base: level 1
    // gives nearest-upscaled B1, mean(B0,B1), mean(B1,B2); level 2 the level-1 maps.
    dsfn::Architecture arch;
    arch.width = 4;
    dsfn::Network net(arch);
    torch::NoGradGuard no_grad;
    net->zero_residuals();
    auto b0 = torch::rand({1, 3, 3, 4}), b1 = torch::rand({1, 3, 3, 4}), b2 = torch::rand({1, 3, 3, 4});
    auto l1 = net->level1(b0, b1, b2);
    auto up = [](const torch::Tensor &x) { return x.repeat_interleave(4, 2).repeat_interleave(4, 3); };
    ck_assert(max_abs_diff(net->to_image(l1[1]), up(b1)) < 1e-6);
    ck_assert(max_abs_diff(net->to_image(l1[0]), up((b0 + b1) / 2)) < 1e-6);
    ck_assert(max_abs_diff(net->to_image(l1[2]), up((b1 + b2) / 2)) < 1e-6);
    auto l1b = net->level1(b1, b2, b2);
    auto l2 = net->level2(l1, l1b);
    ck_assert(max_abs_diff(l2[0], l1[1]) < 1e-6);
    ck_assert(max_abs_diff(l2[1], (l1[2] + l1b[0]) / 2) < 1e-6);
    ck_assert(max_abs_diff(l2[2], l1b[1]) < 1e-6);
}
END_TEST

START_TEST(test_engine_layout_matches_plain_forward)
{
    // The engine runs channels-last weights and inputs (oneDNN, the deformable
    // convolution's direct oneDNN call); the plain NCHW forward is the reference.
    torch::manual_seed(3);
    torch::NoGradGuard no_grad;
    dsfn::Architecture arch;
    arch.width = 4;
    dsfn::Network net(arch);
    net->eval();
    const auto cl = at::MemoryFormat::ChannelsLast;
    auto b0 = torch::rand({1, 3, 12, 10}), b1 = torch::rand({1, 3, 12, 10}), b2 = torch::rand({1, 3, 12, 10});
    auto plain1 = net->level1(b0, b1, b2);
    auto plain2 = net->level2(plain1, plain1);

    for (auto &p : net->parameters())
        if (p.dim() == 4)
            p.set_data(p.data().contiguous(cl));
    auto fast1 = net->level1(b0.contiguous(cl), b1.contiguous(cl), b2.contiguous(cl));
    auto fast2 = net->level2(fast1, fast1);
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(max_abs_diff(plain1[i], fast1[i]) < 1e-4, "level 1 map %d differs by %g", i,
                      max_abs_diff(plain1[i], fast1[i]));
        ck_assert_msg(max_abs_diff(plain2[i], fast2[i]) < 1e-4, "level 2 map %d differs by %g", i,
                      max_abs_diff(plain2[i], fast2[i]));
    }
}
END_TEST

START_TEST(test_onednn_float_runner_matches_forward)
{
    // The filter's float inference (direct oneDNN convolutions, LeakyReLU and
    // residual sums in their passes) against the modules' own forward.
    torch::manual_seed(5);
    torch::NoGradGuard no_grad;
    dsfn::Architecture arch;
    arch.width = 4;
    dsfn::Network net(arch);
    net->eval();
    if (!dsfn::onednn_float_runner_available()) {
        ck_assert(throws<std::runtime_error>([&] { dsfn::OnednnFloatRunner(*net, torch::kFloat); }));
        return;
    }
    auto b0 = torch::rand({1, 3, 12, 10}), b1 = torch::rand({1, 3, 12, 10}), b2 = torch::rand({1, 3, 12, 10});
    for (auto type : {torch::kFloat, torch::kBFloat16}) {
        net->to(type);
        auto plain1 = net->level1(b0, b1, b2);
        auto plain2 = net->level2(plain1, plain1);
        net->run_convs_with(std::make_shared<dsfn::OnednnFloatRunner>(*net, type));
        auto fast1 = net->level1(b0, b1, b2);
        auto fast2 = net->level2(fast1, fast1);
        net->run_convs_with(nullptr);
        // bf16 rounds each sum once where the module path rounds the convolution first.
        const double tolerance = type == torch::kFloat ? 1e-5 : 3e-2;
        for (int i = 0; i < 3; i++) {
            ck_assert(fast1[i].scalar_type() == torch::kFloat && fast2[i].scalar_type() == torch::kFloat);
            ck_assert_msg(max_abs_diff(plain1[i], fast1[i]) < tolerance, "level 1 map %d differs by %g", i,
                          max_abs_diff(plain1[i], fast1[i]));
            ck_assert_msg(max_abs_diff(plain2[i], fast2[i]) < tolerance, "level 2 map %d differs by %g", i,
                          max_abs_diff(plain2[i], fast2[i]));
        }
    }
    net->to(torch::kFloat);

    // A convolution given the wrong input or residual says so.
    dsfn::OnednnFloatConv conv(torch::randn({8, 4, 3, 3}), torch::randn({8}), torch::kBFloat16);
    const auto cl = at::MemoryFormat::ChannelsLast;
    auto x = torch::rand({1, 4, 6, 5}).to(torch::kBFloat16).contiguous(cl);
    auto y = conv.run(x, true, false);
    ck_assert(y.scalar_type() == torch::kBFloat16 && y.sizes() == torch::IntArrayRef({1, 8, 6, 5}));
    ck_assert(y.is_contiguous(cl) && y.min().item<float>() >= -0.1f * y.abs().max().item<float>());
    auto sum = conv.add_into(x, y.clone());
    auto expected = y.to(torch::kFloat) + conv.run(x, false, true);
    ck_assert_msg(max_abs_diff(sum.to(torch::kFloat), expected) < 0.05 * expected.abs().max().item<double>(),
                  "sum post-op off by %g", max_abs_diff(sum.to(torch::kFloat), expected));
    ck_assert(throws<std::logic_error>([&] { conv.run(x.to(torch::kFloat), false, false); }));
    ck_assert(throws<std::logic_error>([&] {
        conv.run(torch::rand({1, 3, 6, 5}).to(torch::kBFloat16), false, false);
    }));
    // A float32 residual takes the sum in float32 (the level's sums with its bases).
    auto float_sum = conv.add_into(x, y.to(torch::kFloat).contiguous(cl));
    ck_assert(float_sum.scalar_type() == torch::kFloat);
    ck_assert(max_abs_diff(float_sum, expected) < 0.05 * expected.abs().max().item<double>());
    ck_assert(throws<std::logic_error>([&] { conv.add_into(x, y.to(torch::kHalf)); }));
    ck_assert(throws<std::logic_error>([&] { conv.add_into(x, y.narrow(1, 0, 4).contiguous(cl)); }));
    ck_assert(throws<std::logic_error>([&] { conv.add_into(x, y.contiguous()); }));
}
END_TEST

START_TEST(test_map_to_picture_matches_ops)
{
    // The fused conversion against pixel shuffle + clamp + round by LibTorch's ops,
    // byte for byte: packed and planar pictures with padded rows, the
    // specialised scale 4 and another, maps in either memory format or cropped
    // out of a larger channels-last one (read in place).
    torch::manual_seed(5);
    for (int64_t scale : {4, 2}) {
        const int64_t h = 5, w = 7, H = h * scale, W = w * scale;
        auto map = torch::rand({1, 3 * scale * scale, h, w}) * 1.4 - 0.2;            // past both ends
        map.view(-1).slice(0, 0, 64).copy_(torch::arange(64) / 255.0 + 0.5 / 255.0); // near ties
        auto larger = torch::full({1, 3 * scale * scale, h + 3, w + 4}, 9.f).contiguous(at::MemoryFormat::ChannelsLast);
        auto crop = larger.narrow(2, 1, h).narrow(3, 2, w);
        crop.copy_(map);
        for (const auto &m : {map.contiguous(at::MemoryFormat::ChannelsLast), map, crop}) {
            auto expected = dsfn::map_to_rgb8_reference(m, scale); // [3, H, W]

            const int64_t packed_line = 3 * W + 5;
            std::vector<uint8_t> packed(static_cast<size_t>(packed_line * H), 77);
            dsfn::Rgb8Planes rgb24 = {
                {packed.data(), packed.data() + 1, packed.data() + 2}, {packed_line, packed_line, packed_line}, 3};
            dsfn::map_to_rgb8(m, scale, rgb24);
            auto got =
                torch::from_blob(packed.data(), {H, W, 3}, {packed_line, 3, 1}, torch::kUInt8).permute({2, 0, 1});
            ck_assert_msg(torch::equal(got, expected), "packed picture differs (scale %d)", (int)scale);
            ck_assert_int_eq(packed[3 * W], 77); // the row's padding is left alone

            const int64_t line[3] = {W, W + 3, W + 16};
            std::vector<uint8_t> planes[3];
            dsfn::Rgb8Planes planar{};
            for (int c = 0; c < 3; c++) {
                planes[c].assign(static_cast<size_t>(line[c] * H), 77);
                planar.data[c] = planes[c].data();
                planar.linesize[c] = line[c];
            }
            planar.pixel_step = 1;
            dsfn::map_to_rgb8(m, scale, planar);
            for (int c = 0; c < 3; c++) {
                auto plane = torch::from_blob(planes[c].data(), {H, W}, {line[c], 1}, torch::kUInt8);
                ck_assert_msg(torch::equal(plane, expected[c]), "plane %d differs (scale %d)", c, (int)scale);
            }

            // 16-bit planes (gbrp16): linesizes in bytes, as FFmpeg gives them.
            auto expected16 = dsfn::map_to_rgb16_reference(m, scale);
            std::vector<uint16_t> planes16[3];
            dsfn::Rgb16Planes planar16{};
            for (int c = 0; c < 3; c++) {
                planes16[c].assign(static_cast<size_t>(line[c] * H), 7777);
                planar16.data[c] = planes16[c].data();
                planar16.linesize[c] = 2 * line[c];
            }
            planar16.pixel_step = 1;
            dsfn::map_to_rgb16(m, scale, planar16);
            for (int c = 0; c < 3; c++) {
                auto plane = torch::from_blob(planes16[c].data(), {H, W}, {line[c], 1}, torch::kInt16)
                                 .to(torch::kInt)
                                 .bitwise_and(0xFFFF);
                ck_assert_msg(torch::equal(plane, expected16[c]), "16-bit plane %d differs (scale %d)", c, (int)scale);
                ck_assert_int_eq(planes16[c][static_cast<size_t>(W)], line[c] > W ? 7777 : planes16[c][W]);
            }
        }
    }

    // Values the ops leave undefined: NaN gives black, infinities the ends.
    auto odd = torch::full({1, 48, 1, 1}, 0.5f);
    odd[0][0][0][0] = NAN;
    odd[0][1][0][0] = INFINITY;
    odd[0][2][0][0] = -INFINITY;
    std::vector<uint8_t> px(48, 1);
    dsfn::Rgb8Planes dst = {{px.data(), px.data() + 1, px.data() + 2}, {12, 12, 12}, 3};
    dsfn::map_to_rgb8(odd, 4, dst);
    ck_assert_int_eq(px[0], 0);
    ck_assert_int_eq(px[3], 255);
    ck_assert_int_eq(px[6], 0);
    ck_assert_int_eq(px[9], 128);
}
END_TEST

START_TEST(test_widen_keeps_outputs)
{
    // A widened network computes what the narrow one does, at a multiple of its
    // width and at a width that is not one; the copies of a channel then get
    // different gradients (else training could never tell them apart).
    torch::manual_seed(11);
    dsfn::Architecture arch;
    arch.width = 4;
    dsfn::Network narrow(arch);
    {
        torch::NoGradGuard no_grad;
        for (auto &p : narrow->named_parameters()) // the offset heads start at zero: make them warp
            if (p.key().find("offsets") != std::string::npos)
                p.value().copy_(torch::rand_like(p.value()) * 0.1 - 0.05);
    }
    auto frames = torch::rand({4, 2, 3, 6, 5}).unbind(0);
    auto outputs = [&](dsfn::NetworkImpl &net) {
        auto a = net.level1(frames[0], frames[1], frames[2]);
        auto b = net.level1(frames[1], frames[2], frames[3]);
        auto l2 = net.level2(a, b);
        return torch::cat({a[0], a[1], a[2], b[0], b[1], b[2], l2[0], l2[1], l2[2]}, 1);
    };
    torch::Tensor expected;
    {
        torch::NoGradGuard no_grad;
        expected = outputs(*narrow);
    }
    for (int64_t width : {8, 6}) {
        auto wide = dsfn::widen(*narrow, width, 3);
        ck_assert_int_eq(wide->architecture().width, width);
        auto got = outputs(*wide);
        ck_assert_msg(max_abs_diff(got, expected) < 1e-4, "width %d differs by %g", (int)width,
                      max_abs_diff(got, expected));
        got.square().sum().backward();
        auto grad = wide->named_parameters()["dsfn1.encoder.0.head.weight"].grad();
        ck_assert(max_abs_diff(grad[0], grad[4]) > 1e-6); // channel 0 and its copy 4
    }
    ck_assert(max_abs_diff(outputs(*dsfn::widen(*narrow, 4, 3)).detach(), expected) < 1e-5);
    bool threw = false;
    try {
        dsfn::widen(*narrow, 2, 3);
    } catch (const std::invalid_argument &) {
        threw = true;
    }
    ck_assert(threw);
}
END_TEST

START_TEST(test_paper_size)
{
    // Width 64 should be within 10% of the paper's 10.9 M parameters.
    dsfn::Architecture arch;
    dsfn::Network net(arch);
    const double m = net->parameter_count() / 1e6;
    ck_assert_msg(std::fabs(m - 10.9) / 10.9 < 0.10, "width 64 has %.3f M parameters", m);
}
END_TEST

START_TEST(test_mirror_edges_values)
{
    // Rows r0 r1 grown by 3: r1 r1 r0 [r0 r1] r1 r0 r0 (half-sample symmetric, and
    // mirrored again past the picture); columns c0 c1 c2: c2 c1 c0 [c0 c1 c2] c2 c1 c0.
    auto x = torch::arange(6, torch::kFloat).view({1, 1, 2, 3});
    auto y = dsfn::mirror_edges(x, 3);
    ck_assert_int_eq(y.size(2), 8);
    ck_assert_int_eq(y.size(3), 9);
    const int rows[8] = {1, 1, 0, 0, 1, 1, 0, 0};
    const int cols[9] = {2, 1, 0, 0, 1, 2, 2, 1, 0};
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 9; j++)
            ck_assert_float_eq(y[0][0][i][j].item<float>(), static_cast<float>(3 * rows[i] + cols[j]));
    ck_assert(torch::equal(dsfn::mirror_edges(x, 0), x));
}
END_TEST

extern "C" Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("network");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_deform_conv_matches_reference);
    tcase_add_test(tc, test_deform_conv_wide_channels_and_bf16);
    tcase_add_test(tc, test_deform_conv_into_a_batch_slice);
    tcase_add_test(tc, test_concat_channels_matches_cat);
    tcase_add_test(tc, test_deform_conv_offsets_read_in_place);
    tcase_add_test(tc, test_deform_conv_bands_match_whole_matrix);
    tcase_add_test(tc, test_deform_conv_non_finite_offsets);
    tcase_add_test(tc, test_deform_conv_zero_offset_is_conv);
    tcase_add_test(tc, test_deform_conv_offsets_get_gradients);
    tcase_add_test(tc, test_network_shapes);
    tcase_add_test(tc, test_residual_bases);
    tcase_add_test(tc, test_engine_layout_matches_plain_forward);
    tcase_add_test(tc, test_onednn_float_runner_matches_forward);
    tcase_add_test(tc, test_map_to_picture_matches_ops);
    tcase_add_test(tc, test_widen_keeps_outputs);
    tcase_add_test(tc, test_paper_size);
    tcase_add_test(tc, test_mirror_edges_values);
    suite_add_tcase(s, tc);
    return s;
}
