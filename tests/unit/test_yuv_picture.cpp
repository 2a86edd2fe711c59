// The layouts of GPU pipelines (engine/yuv_picture.h) on the CPU, where the same
// LibTorch ops run as on a GPU: known code values of each matrix and range, round
// trips, 4:2:0 siting, the difference measure, and the C API's handling of pictures
// in device memory on an engine without a GPU.
#include "engine/yuv_picture.h"

#include <cerrno>
#include <cstring>
#include <vector>

#include "tests.h"

namespace {
// Luma weights of R and B.
struct Matrix {
    double kr, kb;
};
const Matrix kBT709{0.2126, 0.0722}, kBT601{0.299, 0.114}, kBT2020{0.2627, 0.0593};

// A picture in host memory with padded rows, its planes in one buffer.
struct HostPicture {
    std::vector<uint8_t> bytes;
    DSFNImage image{};

    HostPicture(int w, int h, DSFNPixelLayout layout, Matrix matrix = kBT709, int full_range = 0)
    {
        const bool deep = layout == DSFN_LAYOUT_P010 || layout == DSFN_LAYOUT_YUV444P16;
        const int sample = deep ? 2 : 1;
        const int hc = (h + 1) / 2, wc = (w + 1) / 2;
        int rows[3] = {h, h, h}, row_bytes[3] = {w * sample, w * sample, w * sample};
        if (layout == DSFN_LAYOUT_NV12 || layout == DSFN_LAYOUT_P010)
            rows[1] = hc, row_bytes[1] = 2 * wc * sample;
        if (layout == DSFN_LAYOUT_RGB0 || layout == DSFN_LAYOUT_BGR0)
            row_bytes[0] = 4 * w;
        const int planes = dsfn::plane_count(layout);
        size_t offsets[3] = {0, 0, 0}, total = 0;
        for (int i = 0; i < planes; i++) {
            offsets[i] = total;
            total += static_cast<size_t>(row_bytes[i] + 8) * rows[i];
        }
        bytes.assign(total, 0);
        for (int i = 0; i < planes; i++) {
            image.data[i] = bytes.data() + offsets[i];
            image.linesize[i] = row_bytes[i] + 8;
        }
        image.width = w;
        image.height = h;
        image.layout = layout;
        image.memory = DSFN_MEMORY_HOST;
        image.kr = matrix.kr;
        image.kb = matrix.kb;
        image.full_range = full_range;
    }

    uint8_t &byte(int plane, int y, int x) { return image.data[plane][y * image.linesize[plane] + x]; }
    uint16_t word(int plane, int y, int x)
    {
        uint16_t v;
        std::memcpy(&v, image.data[plane] + y * image.linesize[plane] + 2 * x, 2);
        return v;
    }
};

// A [3, h, w] picture of one colour.
torch::Tensor flat(int w, int h, float r, float g, float b)
{
    return torch::tensor({r, g, b}).view({3, 1, 1}).expand({3, h, w}).contiguous();
}

const torch::Device cpu(torch::kCPU);

} // namespace

// Red, white and black at 8 bits, as the standards tabulate them.
START_TEST(test_known_code_values)
{
    struct Case {
        Matrix matrix;
        int full_range;
        float r, g, b;
        int y, cb, cr;
    } cases[] = {
        {kBT601, 0, 1, 0, 0, 81, 90, 240},   {kBT709, 0, 1, 0, 0, 63, 102, 240}, {kBT2020, 0, 1, 0, 0, 74, 97, 240},
        {kBT709, 0, 1, 1, 1, 235, 128, 128}, {kBT709, 0, 0, 0, 0, 16, 128, 128}, {kBT601, 1, 1, 0, 0, 76, 85, 255},
        {kBT709, 1, 1, 1, 1, 255, 128, 128},
    };
    for (const auto &c : cases) {
        for (auto layout : {DSFN_LAYOUT_NV12, DSFN_LAYOUT_YUV444P}) {
            HostPicture p(6, 4, layout, c.matrix, c.full_range);
            dsfn::write_yuv_picture(flat(6, 4, c.r, c.g, c.b), p.image, cpu);
            ck_assert_int_eq(p.byte(0, 3, 5), c.y);
            if (layout == DSFN_LAYOUT_NV12) {
                ck_assert_int_eq(p.byte(1, 1, 4), c.cb);
                ck_assert_int_eq(p.byte(1, 1, 5), c.cr);
            } else {
                ck_assert_int_eq(p.byte(1, 3, 5), c.cb);
                ck_assert_int_eq(p.byte(2, 3, 5), c.cr);
            }
            auto back = dsfn::read_yuv_picture(p.image, cpu);
            ck_assert_msg((back - flat(6, 4, c.r, c.g, c.b)).abs().max().item<float>() < 0.02f,
                          "kr %g range %d: the colour does not come back", c.matrix.kr, c.full_range);
        }
    }
    // 10 bits in the high bits of P010's words: limited-range white is 940 << 6.
    HostPicture p(4, 2, DSFN_LAYOUT_P010);
    dsfn::write_yuv_picture(flat(4, 2, 1, 1, 1), p.image, cpu);
    ck_assert_int_eq(p.word(0, 1, 3), 940 << 6);
    ck_assert_int_eq(p.word(1, 0, 1), 512 << 6);
    HostPicture q(4, 2, DSFN_LAYOUT_YUV444P16, kBT709, 1);
    dsfn::write_yuv_picture(flat(4, 2, 1, 1, 1), q.image, cpu);
    ck_assert_int_eq(q.word(0, 1, 3), 65535);
    ck_assert_int_eq(q.word(1, 1, 3), 32768);
}
END_TEST

// A smooth picture through every layout and back, odd sizes included.
START_TEST(test_round_trips)
{
    for (int w : {7, 16}) {
        const int h = w == 7 ? 5 : 9;
        auto ys = torch::linspace(0, 1, h).view({1, h, 1}), xs = torch::linspace(0, 1, w).view({1, 1, w});
        auto rgb =
            torch::cat({xs.expand({1, h, w}), ys.expand({1, h, w}), (1 - xs * ys).expand({1, h, w})}) * 0.8 + 0.1;
        for (auto layout : {DSFN_LAYOUT_NV12, DSFN_LAYOUT_P010, DSFN_LAYOUT_YUV444P, DSFN_LAYOUT_YUV444P16,
                            DSFN_LAYOUT_RGB0, DSFN_LAYOUT_BGR0}) {
            for (auto matrix : {kBT709, kBT601, kBT2020}) {
                HostPicture p(w, h, layout, matrix, matrix.kr == kBT601.kr);
                dsfn::write_yuv_picture(rgb, p.image, cpu);
                const auto diff = (dsfn::read_yuv_picture(p.image, cpu) - rgb).abs();
                // 4:2:0 reproduces linear and bilinear chroma exactly away from the
                // edges, where the samples beyond are taken as the edge's; 4:4:4 and
                // RGB lose only rounding.
                const bool subsampled = layout == DSFN_LAYOUT_NV12 || layout == DSFN_LAYOUT_P010;
                const float inside = diff.slice(1, 2, h - 2).slice(2, 2, w - 2).max().item<float>();
                const float all = diff.max().item<float>();
                ck_assert_msg(inside < 0.006f && all < (subsampled ? 0.2f : 0.006f),
                              "layout %d kr %g %dx%d: error %f inside, %f in all", layout, matrix.kr, w, h, inside,
                              all);
            }
        }
    }
    // RGB0 and BGR0 differ in their byte order only.
    HostPicture a(2, 1, DSFN_LAYOUT_RGB0), b(2, 1, DSFN_LAYOUT_BGR0);
    dsfn::write_yuv_picture(flat(2, 1, 1, 0.5f, 0), a.image, cpu);
    dsfn::write_yuv_picture(flat(2, 1, 1, 0.5f, 0), b.image, cpu);
    ck_assert_int_eq(a.byte(0, 0, 4), 255);
    ck_assert_int_eq(a.byte(0, 0, 5), 128);
    ck_assert_int_eq(a.byte(0, 0, 6), 0);
    ck_assert_int_eq(b.byte(0, 0, 4), 0);
    ck_assert_int_eq(b.byte(0, 0, 6), 255);
}
END_TEST

// 4:2:0 chroma sits on the even columns, between two rows: a step between the
// chroma columns is interpolated at the odd column, and one between chroma rows
// is weighted 3/4 to the nearer one.
START_TEST(test_chroma_siting)
{
    HostPicture p(4, 4, DSFN_LAYOUT_NV12, kBT709, 1);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            p.byte(0, y, x) = 128;
    // Cb: 128 + 40 at chroma (0, 1) only; Cr neutral.
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++) {
            p.byte(1, y, 2 * x) = (y == 0 && x == 1) ? 168 : 128;
            p.byte(1, y, 2 * x + 1) = 128;
        }
    auto rgb = dsfn::read_yuv_picture(p.image, cpu);
    // Blue minus luma follows Cb: B = Y' + 2 (1 - kb) Cb'.
    auto cb = (rgb[2] - 128.0f / 255) / (2 * (1 - 0.0722f)) * 255;
    const float expected[4][4] = {{0, 20, 40, 40}, {0, 15, 30, 30}, {0, 5, 10, 10}, {0, 0, 0, 0}};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            ck_assert_msg(std::abs(cb[y][x].item<float>() - expected[y][x]) < 0.01f, "(%d, %d): %f, expected %f", y, x,
                          cb[y][x].item<float>(), expected[y][x]);
}
END_TEST

START_TEST(test_picture_difference)
{
    HostPicture a(4, 2, DSFN_LAYOUT_NV12), b(4, 2, DSFN_LAYOUT_NV12);
    b.byte(0, 1, 2) = 64;  // one luma sample by 64
    b.byte(1, 0, 3) = 128; // one chroma sample by 128
    // 12 samples (8 luma, 4 chroma): (64 + 128) / 12 / 256 = 6.25%.
    ck_assert_double_eq_tol(dsfn::picture_difference(a.image, b.image, cpu), 6.25, 1e-9);
    HostPicture c(2, 1, DSFN_LAYOUT_RGB0), d(2, 1, DSFN_LAYOUT_RGB0);
    d.byte(0, 0, 3) = 255; // the unused byte
    ck_assert_double_eq_tol(dsfn::picture_difference(c.image, d.image, cpu), 0.0, 1e-9);
    d.byte(0, 0, 0) = 96;
    ck_assert_double_eq_tol(dsfn::picture_difference(c.image, d.image, cpu), 100.0 * 96 / 6 / 256, 1e-9);
}
END_TEST

// Through the C API on the CPU: Y'CbCr pictures in host memory run like RGB ones;
// a picture in device memory is a clear error on an engine without a GPU.
START_TEST(test_engine_layouts_and_memory)
{
    DSFNEngineConfig cfg = dsfn_engine_default_config();
    cfg.model_path = fixture_model(4);
    cfg.threads = 1;
    cfg.adapt_threads = 0;
    DSFNEngine *e = nullptr;
    char err[512];
    ck_assert_int_eq(dsfn_engine_create(&e, &cfg, err, sizeof(err)), 0);

    HostPicture in(6, 5, DSFN_LAYOUT_NV12);
    for (size_t i = 0; i < in.bytes.size(); i++)
        in.bytes[i] = static_cast<uint8_t>(64 + (i * 37) % 128);
    HostPicture on_gpu = in;
    on_gpu.image.memory = DSFN_MEMORY_DEVICE;
    for (int i = 0; i < 2; i++)
        on_gpu.image.data[i] = on_gpu.bytes.data() + (in.image.data[i] - in.bytes.data());
    ck_assert_int_eq(dsfn_engine_send(e, &on_gpu.image), -EINVAL);
    ck_assert_ptr_nonnull(std::strstr(dsfn_engine_error(e), "GPU memory"));
    double percent = -1;
    ck_assert_int_eq(dsfn_engine_picture_difference(e, &on_gpu.image, &on_gpu.image, &percent), -EINVAL);
    ck_assert_int_eq(dsfn_engine_picture_difference(e, &in.image, &in.image, &percent), 0);
    ck_assert_double_eq(percent, 0.0);

    DSFNImage bad = in.image;
    const int unknown = 99; // as a C caller may store it
    std::memcpy(&bad.layout, &unknown, sizeof unknown);
    ck_assert_int_eq(dsfn_engine_send(e, &bad), -EINVAL);
    bad = in.image;
    bad.kr = bad.kb = 0; // as a caller that leaves them out
    ck_assert_int_eq(dsfn_engine_send(e, &bad), -EINVAL);
    ck_assert_ptr_nonnull(std::strstr(dsfn_engine_error(e), "luma weights"));
    bad = in.image;
    bad.data[1] = nullptr;
    ck_assert_int_eq(dsfn_engine_send(e, &bad), -EINVAL);
    ck_assert_ptr_nonnull(std::strstr(dsfn_engine_error(e), "plane 1"));

    ck_assert_int_eq(dsfn_engine_send(e, &in.image), 0);
    ck_assert_int_eq(dsfn_engine_end_segment(e), 0);
    ck_assert_int_eq(dsfn_engine_output_ready(e), 1);
    HostPicture out(24, 20, DSFN_LAYOUT_NV12);
    HostPicture out_gpu = out;
    out_gpu.image.memory = DSFN_MEMORY_DEVICE;
    for (int i = 0; i < 2; i++)
        out_gpu.image.data[i] = out_gpu.bytes.data() + (out.image.data[i] - out.bytes.data());
    ck_assert_int_eq(dsfn_engine_receive(e, &out_gpu.image, nullptr), -EINVAL);
    ck_assert_int_eq(dsfn_engine_receive(e, &out.image, nullptr), 0);
    // The output is a picture in that layout: its luma is within the code range.
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 24; x++)
            ck_assert(out.byte(0, y, x) >= 16 && out.byte(0, y, x) <= 235);
    dsfn_engine_free(&e);
}
END_TEST

extern "C" Suite *yuv_picture_suite(void)
{
    Suite *s = suite_create("yuv_picture");
    TCase *tc = tcase_create("cpu");
    tcase_add_test(tc, test_known_code_values);
    tcase_add_test(tc, test_round_trips);
    tcase_add_test(tc, test_chroma_siting);
    tcase_add_test(tc, test_picture_difference);
    tcase_add_test(tc, test_engine_layouts_and_memory);
    suite_add_tcase(s, tc);
    return s;
}
