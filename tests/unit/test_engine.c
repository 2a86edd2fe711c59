/* Engine C API: configuration errors, the N -> 2N stream, layouts, sizes. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsfn/engine.h"
#include "tests.h"

typedef struct Picture {
    DSFNImage img;
    uint8_t *buf;
} Picture;

static void picture_alloc(Picture *p, int w, int h, enum DSFNPixelLayout layout, unsigned seed)
{
    const int planes = layout == DSFN_LAYOUT_RGB24 ? 1 : 3;
    const int stride = layout == DSFN_LAYOUT_GBRP16 ? 2 * w + 6 : /* padded rows, in bytes */
                       (layout == DSFN_LAYOUT_GBRP ? w : 3 * w) + 5;

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

/* The engine as users get it (the filter's defaults: dsfn_engine_default_config)
 * on the width-4 fixture model, with one fixed thread. */
static DSFNEngineConfig test_config(void)
{
    DSFNEngineConfig cfg = dsfn_engine_default_config();

    cfg.model_path    = fixture_model(4);
    cfg.threads       = 1;
    cfg.adapt_threads = 0;
    return cfg;
}

static DSFNEngine *engine_new(int with_between)
{
    DSFNEngineConfig cfg = test_config();
    DSFNEngine *e = NULL;
    char err[512];

    cfg.with_between = with_between;
    ck_assert_int_eq(dsfn_engine_create(&e, &cfg, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(e);
    return e;
}

static int create_error(const char *model, const char *device, char *err, size_t size)
{
    DSFNEngineConfig cfg = test_config();
    DSFNEngine *e = (DSFNEngine *)&cfg; /* must be reset to NULL on failure */
    int ret;

    cfg.model_path = model;
    cfg.device     = device;
    ret            = dsfn_engine_create(&e, &cfg, err, size);

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
    {
        /* Without a GPU (or CUDA in this LibTorch) the engine says so; with one it starts. */
        DSFNEngineConfig cfg = test_config();
        DSFNEngine *e = NULL;
        int ret;

        cfg.device = "cuda";
        ret        = dsfn_engine_create(&e, &cfg, err, sizeof(err));
        if (ret < 0) {
            ck_assert_int_eq(ret, -ENODEV);
            ck_assert_ptr_nonnull(strstr(err, "CUDA is not available"));
            ck_assert_ptr_null(e);
        } else {
            ck_assert_msg(DSFN_TEST_HAS_CUDA, "device=cuda started on a LibTorch without CUDA");
            dsfn_engine_free(&e);
        }
    }
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
    /* Stage times only grow, and only where that stage ran. */
    ck_assert(after.level1_seconds >= before.level1_seconds && after.level2_seconds >= before.level2_seconds);
    ck_assert(after.input_seconds >= before.input_seconds && after.output_seconds >= before.output_seconds);
    if (n) {
        ck_assert(after.level1_seconds > before.level1_seconds && after.level2_seconds > before.level2_seconds);
        ck_assert(after.output_seconds > before.output_seconds);
    } else {
        ck_assert(after.level1_seconds == before.level1_seconds && after.output_seconds == before.output_seconds);
    }
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

/* The same picture seen bottom-up, as FFmpeg's vflip passes it: each plane from
 * its last row, with a negative linesize. */
static void picture_bottom_up(Picture *p)
{
    for (int i = 0; i < 3 && p->img.data[i]; i++) {
        p->img.data[i] += (ptrdiff_t)(p->img.height - 1) * p->img.linesize[i];
        p->img.linesize[i] = -p->img.linesize[i];
    }
}

/* Run one frame through an engine in the given layout, input and output pictures
 * stored top-down or bottom-up; return the first output. */
static void first_output(enum DSFNPixelLayout layout, int bottom_up, const Picture *gbrp, uint8_t *rgb, int w, int h)
{
    DSFNEngine *e = engine_new(1);
    Picture in, out;

    picture_alloc(&in, w, h, layout, 0);
    if (bottom_up)
        picture_bottom_up(&in);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                const int plane = (c + 2) % 3; /* R, G, B -> planes 2, 0, 1 */
                uint8_t v = gbrp->img.data[plane][y * gbrp->img.linesize[plane] + x];
                if (layout == DSFN_LAYOUT_GBRP16) /* v / 255 == 257 v / 65535 */
                    ((uint16_t *)(in.img.data[plane] + y * in.img.linesize[plane]))[x] = (uint16_t)(257 * v);
                else if (layout == DSFN_LAYOUT_GBRP)
                    in.img.data[plane][y * in.img.linesize[plane] + x] = v;
                else
                    in.img.data[0][y * in.img.linesize[0] + 3 * x + c] = v;
            }
    picture_alloc(&out, 4 * w, 4 * h, layout, 0);
    if (bottom_up)
        picture_bottom_up(&out);
    ck_assert_int_eq(dsfn_engine_send(e, &in.img), 0);
    ck_assert_int_eq(dsfn_engine_end_segment(e), 0);
    ck_assert_int_eq(dsfn_engine_output_ready(e), 1);
    ck_assert_int_eq(dsfn_engine_receive(e, &out.img, NULL), 0);
    for (int y = 0; y < 4 * h; y++)
        for (int x = 0; x < 4 * w; x++)
            for (int c = 0; c < 3; c++) {
                const int plane = (c + 2) % 3;
                if (layout == DSFN_LAYOUT_GBRP16) { /* to 8 bits, rounded */
                    const uint16_t v = ((const uint16_t *)(out.img.data[plane] + y * out.img.linesize[plane]))[x];
                    rgb[(y * 4 * w + x) * 3 + c] = (uint8_t)((v + 128) / 257);
                    continue;
                }
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
    first_output(DSFN_LAYOUT_GBRP, 0, &src, a, w, h);
    first_output(DSFN_LAYOUT_RGB24, 0, &src, b, w, h);
    ck_assert_mem_eq(a, b, sizeof(a));
    /* Bottom-up pictures (negative linesizes) are the same pictures. */
    first_output(DSFN_LAYOUT_GBRP, 1, &src, b, w, h);
    ck_assert_mem_eq(a, b, sizeof(a));
    first_output(DSFN_LAYOUT_RGB24, 1, &src, b, w, h);
    ck_assert_mem_eq(a, b, sizeof(a));
    /* 16-bit planes: the same picture, rounded to 8 bits, within one level (the
     * network's float output rounds to 255 or to 65535 levels). */
    first_output(DSFN_LAYOUT_GBRP16, 0, &src, b, w, h);
    for (size_t i = 0; i < sizeof(a); i++)
        ck_assert_int_le(abs(a[i] - b[i]), 1);
    first_output(DSFN_LAYOUT_GBRP16, 1, &src, b, w, h);
    for (size_t i = 0; i < sizeof(a); i++)
        ck_assert_int_le(abs(a[i] - b[i]), 1);
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
    /* 64x64 at width 4 (72x72 with the default edge_mirror) needs about 26 MiB even
     * in the smallest tiles (memory_model.h): refused under 16 MiB, with a reason;
     * 8x8 needs about 12 MiB and is taken. */
    DSFNEngineConfig cfg = test_config();
    DSFNEngine *e = NULL;
    Picture in;

    cfg.max_memory = 16 << 20;
    ck_assert_int_eq(dsfn_engine_create(&e, &cfg, NULL, 0), 0);
    picture_alloc(&in, 64, 64, DSFN_LAYOUT_GBRP, 0);
    ck_assert_int_eq(dsfn_engine_send(e, &in.img), -ENOMEM);
    /* The default edge_mirror grows the picture, and the message says so. */
    ck_assert_ptr_nonnull(strstr(dsfn_engine_error(e), "64x64 (72x72 with edge_mirror=4) pictures need about"));
    picture_free(&in);
    picture_alloc(&in, 8, 8, DSFN_LAYOUT_GBRP, 0); /* small enough */
    ck_assert_msg(dsfn_engine_send(e, &in.img) == 0, "%s", dsfn_engine_error(e));
    picture_free(&in);
    dsfn_engine_free(&e);
}
END_TEST

/* Flips a packed RGB picture in place: bit 0 mirrors it, bit 1 turns it upside down. */
static void flip_rgb(uint8_t *data, int linesize, int w, int h, int flips)
{
    uint8_t *copy = malloc((size_t)linesize * h);

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, data, (size_t)linesize * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(data + (size_t)y * linesize + 3 * x,
                   copy + (size_t)((flips & 2) ? h - 1 - y : y) * linesize + 3 * ((flips & 1) ? w - 1 - x : x), 3);
    free(copy);
}

/* All 2N outputs of a short stream, packed RGB, with this configuration; the
 * inputs flipped as flip_rgb() does (0: as they are). */
static void stream_outputs(DSFNEngineConfig cfg, uint8_t *rgb, int w, int h, int n, int flips)
{
    DSFNEngine *e = NULL;
    Picture in, out;
    const size_t size = (size_t)3 * 16 * w * h;

    ck_assert_int_eq(dsfn_engine_create(&e, &cfg, NULL, 0), 0);
    picture_alloc(&out, 4 * w, 4 * h, DSFN_LAYOUT_RGB24, 0);
    for (int i = 0; i < n; i++) {
        picture_alloc(&in, w, h, DSFN_LAYOUT_RGB24, 11 + i);
        flip_rgb(in.img.data[0], in.img.linesize[0], w, h, flips);
        ck_assert_int_eq(dsfn_engine_send(e, &in.img), 0);
        picture_free(&in);
    }
    ck_assert_int_eq(dsfn_engine_end_segment(e), 0);
    for (int i = 0; i < 2 * n; i++) {
        ck_assert_int_eq(dsfn_engine_receive(e, &out.img, NULL), 0);
        for (int y = 0; y < 4 * h; y++)
            memcpy(rgb + i * size + (size_t)y * 3 * 4 * w, out.img.data[0] + y * out.img.linesize[0], 3 * 4 * w);
    }
    picture_free(&out);
    dsfn_engine_free(&e);
}

/* Two engines share the process's allocator policy (the block cache): freeing one
 * in the middle of a stream must leave the other's pictures exactly as they are
 * when it runs alone. */
START_TEST(test_engine_freed_while_another_runs)
{
    enum { W = 64, H = 48, N = 5 };
    DSFNEngineConfig cfg = test_config();
    const size_t size = (size_t)3 * 16 * W * H;
    uint8_t *alone = malloc(2 * N * size);
    DSFNEngine *a = NULL, *b = NULL;
    Picture in, out;

    ck_assert_ptr_nonnull(alone);
    stream_outputs(cfg, alone, W, H, N, 0);

    ck_assert_int_eq(dsfn_engine_create(&a, &cfg, NULL, 0), 0);
    ck_assert_int_eq(dsfn_engine_create(&b, &cfg, NULL, 0), 0);
    picture_alloc(&out, 4 * W, 4 * H, DSFN_LAYOUT_RGB24, 0);
    int got = 0;
    for (int i = 0; i <= N; i++) {
        if (i < N) {
            picture_alloc(&in, W, H, DSFN_LAYOUT_RGB24, 11 + i);
            if (a)
                ck_assert_int_eq(dsfn_engine_send(a, &in.img), 0);
            ck_assert_int_eq(dsfn_engine_send(b, &in.img), 0);
            picture_free(&in);
        } else {
            ck_assert_int_eq(dsfn_engine_end_segment(b), 0);
        }
        if (a && dsfn_engine_output_ready(a) == 1)
            ck_assert_int_eq(dsfn_engine_receive(a, &out.img, NULL), 0);
        if (i == 2)
            dsfn_engine_free(&a); /* with outputs and kept blocks pending */
        while (dsfn_engine_output_ready(b) == 1) {
            ck_assert_int_eq(dsfn_engine_receive(b, &out.img, NULL), 0);
            for (int y = 0; y < 4 * H; y++)
                ck_assert_int_eq(memcmp(alone + got * size + (size_t)y * 3 * 4 * W,
                                        out.img.data[0] + y * out.img.linesize[0], 3 * 4 * W), 0);
            got++;
        }
    }
    ck_assert_ptr_null(a);
    ck_assert_int_eq(got, 2 * N);
    picture_free(&out);
    dsfn_engine_free(&b);
    free(alone);
}
END_TEST

START_TEST(test_bf16_close_to_fp32)
{
    enum { W = 12, H = 8, N = 3, SIZE = 2 * N * 3 * 16 * W * H };
    static uint8_t a[SIZE], b[SIZE];
    double sq = 0;
    int worst = 0;

    DSFNEngineConfig cfg = test_config();

    stream_outputs(cfg, a, W, H, N, 0);
    cfg.precision = DSFN_PRECISION_BF16;
    stream_outputs(cfg, b, W, H, N, 0);
    for (int i = 0; i < SIZE; i++) {
        const int d = abs(a[i] - b[i]);
        sq += d * d;
        worst = d > worst ? d : worst;
    }
    /* bf16 keeps 8 bits of mantissa in the convolutions; the sums stay fp32. */
    ck_assert_msg(sq / SIZE < 1.0, "mean squared difference %.3f (PSNR below 48 dB)", sq / SIZE);
    ck_assert_int_le(worst, 16);

    DSFNEngineConfig bad = test_config();
    DSFNEngine *e = NULL;
    char err[256];
    /* fp16 is for GPUs: on the CPU it is refused with a pointer to bf16. */
    bad.precision = DSFN_PRECISION_FP16;
    ck_assert_int_eq(dsfn_engine_create(&e, &bad, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "precision fp16 needs device=cuda"));
    ck_assert_ptr_null(e);
    bad.precision = 7;
    ck_assert_int_eq(dsfn_engine_create(&e, &bad, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "precision"));
}
END_TEST

/* PSNR of two 8-bit buffers (99 when equal). */
static double psnr_of(const uint8_t *a, const uint8_t *b, size_t size)
{
    double sq = 0;
    for (size_t i = 0; i < size; i++)
        sq += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return sq == 0 ? 99 : 10 * log10(255.0 * 255.0 * size / sq);
}

START_TEST(test_tiles_are_seamless)
{
    enum { W = 45, H = 38, N = 3, SIZE = 2 * N * 3 * 16 * W * H };
    static uint8_t whole[SIZE], tiled[SIZE];
    DSFNEngineConfig cfg = test_config();
    DSFNEngineStats st;
    DSFNEngine *e = NULL;
    double p;

    stream_outputs(cfg, whole, W, H, N, 0);
    cfg.tile    = 16; /* the default edge_mirror grows 45x38 to 53x46: 4 x 3 tiles */
    cfg.overlap = 24;
    stream_outputs(cfg, tiled, W, H, N, 0);
    p = psnr_of(whole, tiled, SIZE);
    ck_assert_msg(p >= 45, "tiled vs whole: %.2f dB", p);

    /* Without overlap the seams show: the overlap is what hides them. */
    cfg.overlap = 0;
    stream_outputs(cfg, tiled, W, H, N, 0);
    ck_assert_msg(psnr_of(whole, tiled, SIZE) < p, "overlap made no difference");

    /* The engine reports its tiles. */
    cfg.overlap = 8;
    ck_assert_int_eq(dsfn_engine_create(&e, &cfg, NULL, 0), 0);
    {
        Picture in;
        picture_alloc(&in, W, H, DSFN_LAYOUT_GBRP, 3);
        ck_assert_int_eq(dsfn_engine_send(e, &in.img), 0);
        ck_assert_int_eq(dsfn_engine_end_segment(e), 0);
        ck_assert_int_eq(dsfn_engine_output_ready(e), 1);
        picture_free(&in);
    }
    dsfn_engine_get_stats(e, &st);
    ck_assert_int_eq(st.tile, 16);
    ck_assert_int_eq(st.tiles, 3 * 12); /* one frame: two DSFN1 passes (edge padding), one DSFN2 */
    dsfn_engine_free(&e);

    /* Too small a tile is refused up front. */
    cfg.tile = 15;
    {
        char err[256];
        ck_assert_int_eq(dsfn_engine_create(&e, &cfg, err, sizeof(err)), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "tile 15 is too small"));
    }
}
END_TEST

START_TEST(test_automatic_tiles_under_memory_cap)
{
    /* 96x80 at width 4 needs ~48 MB per pass and ~27 MB of state (memory_model.h);
     * under a 55 MB cap the engine picks tiles instead of refusing, and the result
     * matches. */
    enum { W = 96, H = 80, N = 2, SIZE = 2 * N * 3 * 16 * W * H };
    static uint8_t whole[SIZE], tiled[SIZE];
    DSFNEngineConfig cfg = test_config();
    DSFNEngine *e = NULL;
    DSFNEngineStats st;
    Picture in;

    cfg.overlap = 24;
    stream_outputs(cfg, whole, W, H, N, 0);
    cfg.max_memory = 55 << 20;
    stream_outputs(cfg, tiled, W, H, N, 0);
    ck_assert_msg(psnr_of(whole, tiled, SIZE) >= 45, "automatic tiles vs whole: %.2f dB", psnr_of(whole, tiled, SIZE));

    ck_assert_int_eq(dsfn_engine_create(&e, &cfg, NULL, 0), 0);
    picture_alloc(&in, W, H, DSFN_LAYOUT_GBRP, 3);
    ck_assert_int_eq(dsfn_engine_send(e, &in.img), 0);
    dsfn_engine_get_stats(e, &st);
    ck_assert_int_gt(st.tile, 0);
    ck_assert_int_lt(st.tile, W);
    picture_free(&in);
    dsfn_engine_free(&e);
}
END_TEST

/* The mean over flipped copies commutes with the flips it averages over,
 * exactly: a mirrored input gives the mirrored output (2 copies and 4), an
 * upside-down one the upside-down output (4 copies). A single pass of the
 * (random) fixture does neither. */
START_TEST(test_ensemble_is_flip_equivariant)
{
    enum { W = 13, H = 9, N = 3, SIZE = 2 * N * 3 * 16 * W * H };
    static uint8_t plain[SIZE], flipped[SIZE];
    DSFNEngineConfig cfg = test_config();
    DSFNEngine *e = NULL;
    char err[256];

    for (cfg.ensemble = 1; cfg.ensemble <= 4; cfg.ensemble *= 2) {
        stream_outputs(cfg, plain, W, H, N, 0);
        for (int flips = 1; flips <= 3; flips++) {
            const int expected = cfg.ensemble == 4 || (cfg.ensemble == 2 && flips == 1);
            stream_outputs(cfg, flipped, W, H, N, flips);
            for (int i = 0; i < 2 * N; i++)
                flip_rgb(flipped + (size_t)i * 3 * 16 * W * H, 3 * 4 * W, 4 * W, 4 * H, flips);
            ck_assert_msg((memcmp(plain, flipped, SIZE) == 0) == expected, "ensemble %d, flips %d: outputs %s",
                          cfg.ensemble, flips, expected ? "differ" : "are equal");
        }
    }
    cfg.ensemble = 3;
    ck_assert_int_eq(dsfn_engine_create(&e, &cfg, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(err, "ensemble 3"));
}
END_TEST

/* Position i of a picture n pixels wide grown by mirrored edges reads pixel
 * mirrored(i, n) (half-sample symmetric, as FFmpeg's fillborders=mode=mirror). */
static int mirrored(int i, int n)
{
    const int j = ((i % (2 * n)) + 2 * n) % (2 * n);
    return j >= n ? 2 * n - 1 - j : j;
}

/* edge_mirror = P gives exactly what the plain engine gives for the pictures
 * grown by P mirrored pixels a side, cropped back; also when P exceeds the
 * picture (mirrored again). Values out of range are refused. */
START_TEST(test_edge_mirror_is_grown_picture)
{
    enum { W = 7, H = 5, N = 3, MAX_P = 9 };
    static const int pads[] = { 2, MAX_P };
    DSFNEngineConfig cfg = test_config();
    DSFNEngine *e = NULL;
    char err[256];

    for (size_t k = 0; k < sizeof(pads) / sizeof(pads[0]); k++) {
        const int p = pads[k], gw = W + 2 * p, gh = H + 2 * p;
        DSFNEngine *mirroring = NULL, *plain = NULL;
        Picture in, grown, a, b;

        cfg.edge_mirror = p;
        ck_assert_int_eq(dsfn_engine_create(&mirroring, &cfg, err, sizeof(err)), 0);
        cfg.edge_mirror = 0;
        ck_assert_int_eq(dsfn_engine_create(&plain, &cfg, err, sizeof(err)), 0);
        for (int i = 0; i < N; i++) {
            picture_alloc(&in, W, H, DSFN_LAYOUT_RGB24, 21 + i);
            picture_alloc(&grown, gw, gh, DSFN_LAYOUT_RGB24, 0);
            for (int y = 0; y < gh; y++)
                for (int x = 0; x < gw; x++)
                    memcpy(grown.img.data[0] + y * grown.img.linesize[0] + 3 * x,
                           in.img.data[0] + mirrored(y - p, H) * in.img.linesize[0] + 3 * mirrored(x - p, W), 3);
            ck_assert_int_eq(dsfn_engine_send(mirroring, &in.img), 0);
            ck_assert_int_eq(dsfn_engine_send(plain, &grown.img), 0);
            picture_free(&in);
            picture_free(&grown);
        }
        ck_assert_int_eq(dsfn_engine_end_segment(mirroring), 0);
        ck_assert_int_eq(dsfn_engine_end_segment(plain), 0);
        picture_alloc(&a, 4 * W, 4 * H, DSFN_LAYOUT_RGB24, 0);
        picture_alloc(&b, 4 * gw, 4 * gh, DSFN_LAYOUT_RGB24, 0);
        for (int i = 0; i < 2 * N; i++) {
            ck_assert_int_eq(dsfn_engine_receive(mirroring, &a.img, NULL), 0);
            ck_assert_int_eq(dsfn_engine_receive(plain, &b.img, NULL), 0);
            for (int y = 0; y < 4 * H; y++)
                ck_assert_msg(memcmp(a.img.data[0] + y * a.img.linesize[0],
                                     b.img.data[0] + (y + 4 * p) * b.img.linesize[0] + 3 * 4 * p, 3 * 4 * W) == 0,
                              "edge_mirror %d: output %d differs from the grown picture's in row %d", p, i, y);
        }
        picture_free(&a);
        picture_free(&b);
        dsfn_engine_free(&mirroring);
        dsfn_engine_free(&plain);
    }
    for (int bad = -1; bad <= 65; bad += 66) {
        char expected[32];
        cfg.edge_mirror = bad;
        snprintf(expected, sizeof(expected), "edge_mirror %d", bad);
        ck_assert_int_eq(dsfn_engine_create(&e, &cfg, err, sizeof(err)), -EINVAL);
        ck_assert_ptr_null(e);
        ck_assert_ptr_nonnull(strstr(err, expected));
    }
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
    tcase_add_test(tc, test_bf16_close_to_fp32);
    tcase_add_test(tc, test_tiles_are_seamless);
    tcase_add_test(tc, test_automatic_tiles_under_memory_cap);
    tcase_add_test(tc, test_ensemble_is_flip_equivariant);
    tcase_add_test(tc, test_edge_mirror_is_grown_picture);
    tcase_add_test(tc, test_engine_freed_while_another_runs);
    suite_add_tcase(s, tc);
    return s;
}
