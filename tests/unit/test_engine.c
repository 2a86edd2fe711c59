/* Engine C API: configuration errors, the N -> 2N stream, layouts, sizes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "tests.h"

typedef struct Picture {
    DSFNImage img;
    uint8_t *buf;
} Picture;

static void picture_alloc(Picture *p, int w, int h, enum DSFNPixelLayout layout, unsigned seed)
{
    const int planes = layout == DSFN_LAYOUT_GBRP ? 3 : 1;
    const int stride = (layout == DSFN_LAYOUT_GBRP ? w : 3 * w) + 5; /* padded rows */

    memset(p, 0, sizeof(*p));
    p->buf = malloc((size_t)stride * h * planes);
    ck_assert_ptr_nonnull(p->buf);
    for (size_t i = 0; i < (size_t)stride * h * planes; i++)
        p->buf[i] = (uint8_t)((i * 2654435761u + seed * 40503u) >> 13);
    for (int i = 0; i < planes; i++) {
        p->img.data[i]     = p->buf + (size_t)i * stride * h;
        p->img.linesize[i] = stride;
    }
    p->img.width  = w;
    p->img.height = h;
    p->img.layout = layout;
}

static void picture_free(Picture *p)
{
    free(p->buf);
    p->buf = NULL;
}

static DSFNEngine *engine_new(int with_between)
{
    DSFNEngineConfig cfg = { fixture_model(4), "cpu", 1, with_between, 0 };
    DSFNEngine *e = NULL;
    char err[512];

    ck_assert_int_eq(dsfn_engine_create(&e, &cfg, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(e);
    return e;
}

static int create_error(const char *model, const char *device, char *err, size_t size)
{
    DSFNEngineConfig cfg = { model, device, 1, 1, 0 };
    DSFNEngine *e = (DSFNEngine *)&cfg; /* must be reset to NULL on failure */
    int ret = dsfn_engine_create(&e, &cfg, err, size);

    ck_assert_int_lt(ret, 0);
    ck_assert_ptr_null(e);
    ck_assert_int_gt(strlen(err), 0);
    return ret;
}

START_TEST(test_create_errors)
{
    char err[512];

    create_error(NULL, "cpu", err, sizeof(err));
    ck_assert_ptr_nonnull(strstr(err, "no model"));
    ck_assert_int_eq(create_error("does-not-exist.dsfn", "cpu", err, sizeof(err)), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "does-not-exist.dsfn"));
    ck_assert_int_eq(create_error(fixture_model(4), "gpu0", err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "invalid device 'gpu0'"));
    ck_assert_int_eq(create_error(fixture_model(4), "cuda:x", err, sizeof(err)), -EINVAL);
#if !DSFN_TEST_HAS_CUDA
    ck_assert_int_eq(create_error(fixture_model(4), "cuda", err, sizeof(err)), -ENODEV);
    ck_assert_ptr_nonnull(strstr(err, "CUDA is not available"));
#endif
    ck_assert_int_eq(dsfn_engine_create(NULL, NULL, NULL, 0), -EINVAL);
}
END_TEST

/* Push n frames, end, drain; check order, sizes and pass counts. */
static void stream(DSFNEngine *e, int n, int w, int h, int with_between)
{
    Picture in, out;
    DSFNOutputInfo info;
    DSFNEngineStats before, after;
    int got = 0;

    dsfn_engine_get_stats(e, &before);
    picture_alloc(&out, 4 * w, 4 * h, DSFN_LAYOUT_GBRP, 0);
    for (int i = 0; i <= n; i++) {
        if (i < n) {
            picture_alloc(&in, w, h, DSFN_LAYOUT_GBRP, i);
            ck_assert_int_eq(dsfn_engine_send(e, &in.img), 0);
            picture_free(&in);
        } else {
            ck_assert_int_eq(dsfn_engine_end_segment(e), 0);
        }
        while (dsfn_engine_output_ready(e) == 1) {
            ck_assert_int_eq(dsfn_engine_receive(e, &out.img, &info), 0);
            ck_assert_int_eq(info.is_between, with_between ? got % 2 : 0);
            ck_assert_int_eq(info.input_index - before.frames_in, with_between ? got / 2 : got);
            got++;
        }
    }
    picture_free(&out);
    dsfn_engine_get_stats(e, &after);
    ck_assert_int_eq(got, with_between ? 2 * n : n);
    ck_assert_int_eq(after.level2_passes - before.level2_passes, n);
    ck_assert_int_eq(after.level1_passes - before.level1_passes, n ? n + 1 : 0);
}

START_TEST(test_stream_counts)
{
    for (int n = 0; n <= 5; n++) {
        DSFNEngine *e = engine_new(1);
        stream(e, n, 6, 5, 1);
        dsfn_engine_free(&e);
        ck_assert_ptr_null(e);
    }
    DSFNEngine *e = engine_new(0);
    stream(e, 4, 6, 5, 0);
    dsfn_engine_free(&e);
}
END_TEST

START_TEST(test_segments)
{
    /* A new segment after end_segment, with another size: windows restart. */
    DSFNEngine *e = engine_new(1);
    stream(e, 3, 6, 5, 1);
    stream(e, 2, 3, 7, 1);
    dsfn_engine_free(&e);
}
END_TEST

START_TEST(test_tiny_and_odd_sizes)
{
    const int sizes[][2] = { { 1, 1 }, { 1, 7 }, { 7, 1 }, { 3, 3 }, { 5, 7 } };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        DSFNEngine *e = engine_new(1);
        stream(e, 2, sizes[i][0], sizes[i][1], 1);
        dsfn_engine_free(&e);
    }
}
END_TEST

/* Run one frame through an engine in the given layout, return the first output. */
static void first_output(enum DSFNPixelLayout layout, const Picture *gbrp, uint8_t *rgb, int w, int h)
{
    DSFNEngine *e = engine_new(1);
    Picture in, out;

    picture_alloc(&in, w, h, layout, 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                const int plane = (c + 2) % 3; /* R, G, B -> planes 2, 0, 1 */
                uint8_t v = gbrp->img.data[plane][y * gbrp->img.linesize[plane] + x];
                if (layout == DSFN_LAYOUT_GBRP)
                    in.img.data[plane][y * in.img.linesize[plane] + x] = v;
                else
                    in.img.data[0][y * in.img.linesize[0] + 3 * x + c] = v;
            }
    picture_alloc(&out, 4 * w, 4 * h, layout, 0);
    ck_assert_int_eq(dsfn_engine_send(e, &in.img), 0);
    ck_assert_int_eq(dsfn_engine_end_segment(e), 0);
    ck_assert_int_eq(dsfn_engine_output_ready(e), 1);
    ck_assert_int_eq(dsfn_engine_receive(e, &out.img, NULL), 0);
    for (int y = 0; y < 4 * h; y++)
        for (int x = 0; x < 4 * w; x++)
            for (int c = 0; c < 3; c++) {
                const int plane = (c + 2) % 3;
                rgb[(y * 4 * w + x) * 3 + c] = layout == DSFN_LAYOUT_GBRP
                    ? out.img.data[plane][y * out.img.linesize[plane] + x]
                    : out.img.data[0][y * out.img.linesize[0] + 3 * x + c];
            }
    picture_free(&in);
    picture_free(&out);
    dsfn_engine_free(&e);
}

START_TEST(test_layouts_agree)
{
    const int w = 5, h = 4;
    Picture src;
    uint8_t a[3 * 16 * w * h], b[3 * 16 * w * h];
    int distinct = 0;

    picture_alloc(&src, w, h, DSFN_LAYOUT_GBRP, 7);
    first_output(DSFN_LAYOUT_GBRP, &src, a, w, h);
    first_output(DSFN_LAYOUT_RGB24, &src, b, w, h);
    ck_assert_mem_eq(a, b, sizeof(a));
    for (size_t i = 1; i < sizeof(a); i++)
        distinct += a[i] != a[0];
    ck_assert_int_gt(distinct, 0); /* not a constant picture */
    picture_free(&src);
}
END_TEST

START_TEST(test_misuse_is_reported)
{
    DSFNEngine *e = engine_new(1);
    Picture in, wrong;

    picture_alloc(&wrong, 8, 8, DSFN_LAYOUT_GBRP, 0);
    ck_assert_int_eq(dsfn_engine_receive(e, &wrong.img, NULL), -EAGAIN);
    ck_assert_int_eq(dsfn_engine_send(e, NULL), -EINVAL);

    picture_alloc(&in, 6, 5, DSFN_LAYOUT_GBRP, 0);
    ck_assert_int_eq(dsfn_engine_send(e, &in.img), 0);
    picture_free(&in);
    picture_alloc(&in, 7, 5, DSFN_LAYOUT_GBRP, 0);
    ck_assert_int_eq(dsfn_engine_send(e, &in.img), -EINVAL);
    ck_assert_ptr_nonnull(strstr(dsfn_engine_error(e), "size changed"));
    picture_free(&in);

    ck_assert_int_eq(dsfn_engine_end_segment(e), 0);
    ck_assert_int_eq(dsfn_engine_output_ready(e), 1);
    ck_assert_int_eq(dsfn_engine_receive(e, &wrong.img, NULL), -EINVAL); /* 8x8, not 24x20 */
    ck_assert_ptr_nonnull(strstr(dsfn_engine_error(e), "expected 24x20"));
    picture_free(&wrong);
    dsfn_engine_free(&e);
}
END_TEST

START_TEST(test_memory_limit)
{
    /* 64x64 at width 4 needs ~6.5 MB per pass: refused under 1 MB, with a reason. */
    DSFNEngineConfig cfg = { fixture_model(4), "cpu", 1, 1, 1 << 20 };
    DSFNEngine *e = NULL;
    Picture in;

    ck_assert_int_eq(dsfn_engine_create(&e, &cfg, NULL, 0), 0);
    picture_alloc(&in, 64, 64, DSFN_LAYOUT_GBRP, 0);
    ck_assert_int_eq(dsfn_engine_send(e, &in.img), -ENOMEM);
    ck_assert_ptr_nonnull(strstr(dsfn_engine_error(e), "64x64 pictures need about"));
    picture_free(&in);
    picture_alloc(&in, 8, 8, DSFN_LAYOUT_GBRP, 0); /* small enough */
    ck_assert_int_eq(dsfn_engine_send(e, &in.img), 0);
    picture_free(&in);
    dsfn_engine_free(&e);
}
END_TEST

Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("api");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_create_errors);
    tcase_add_test(tc, test_stream_counts);
    tcase_add_test(tc, test_segments);
    tcase_add_test(tc, test_tiny_and_odd_sizes);
    tcase_add_test(tc, test_layouts_agree);
    tcase_add_test(tc, test_misuse_is_reported);
    tcase_add_test(tc, test_memory_limit);
    suite_add_tcase(s, tc);
    return s;
}
