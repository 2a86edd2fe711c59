/*
 * Copyright (c) 2026 the vf_dsfn authors
 *
 * This file is part of FFmpeg.
 *
 * FFmpeg is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * FFmpeg is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Lesser General Public License for more details.
 *
 * You should have received a copy of the GNU Lesser General Public
 * License along with FFmpeg; if not, write to the Free Software
 * Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301 USA
 */

/**
 * @file
 * DSFN: joint deblurring, super-resolution and frame interpolation
 * (Choi and Park). N input frames give 2N output frames at r times the size;
 * the network runs in libdsfn (LibTorch) behind the C API of dsfn/engine.h.
 * Software frames are RGB; on a GPU (device=cuda) CUDA frames come in and go
 * out as well (dsfn_cuda.h), their pixels never leaving the GPU.
 */

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "libavutil/cpu.h"
#include "libavutil/csp.h"
#include "libavutil/hwcontext.h"
#include "libavutil/imgutils.h"
#include "libavutil/internal.h"
#include "libavutil/opt.h"
#include "libavutil/pixdesc.h"

#include "avfilter.h"
#include "dsfn_cuda.h"
#include "version_major.h"
#include "filters.h"
#include "formats.h"
#include "scene_sad.h"
#include "video.h"

#include "dsfn/engine.h"
#include "dsfn/model_path.h"
#include "dsfn/timeline.h"

enum DSFNMode {
    MODE_FULL,      ///< keyframes and in-between frames
    MODE_KEYFRAMES, ///< keyframes only
    MODE_NB,
};

#define GREY_RING 64

typedef struct DSFNContext {
    const AVClass *class;

    char *model_path;
    char *device;
    int mode;
    double scene_threshold;
    double max_gap;
    double max_memory;
    int precision;
    int tile;
    int overlap;
    int ensemble;
    int edge_mirror;
    int deterministic;
    int tile_logged;        ///< tile side last reported; 0: whole pictures
    int overlap_logged;     ///< overlap last reported as clamped
    int tile_grown_logged;  ///< the tiles' growth to their context was reported
    int max_threads;        ///< the thread count asked for (fewer while other work holds cores)
    int threads_logged;     ///< thread count last reported (at first, the count asked for)
    int interlace_logged;   ///< interlaced input was reported

    DSFNEngine *engine;
    int gpu;                ///< index of the GPU the engine runs on; -1: the CPU
    DSFNCuda *cuda;         ///< CUDA frames' state, opened by the first link of CUDA frames
    enum AVPixelFormat in_sw_format; ///< the pixels of CUDA input frames
    AVFrame *prev;          ///< previous input frame, for scene-cut detection
    ff_scene_sad_fn sad;    ///< libavfilter's SAD, as framerate and scdet use it
    int sad_depth;          ///< bits per sample of the input
    int sad_planes;         ///< planes of the input format
    int sad_width[4];       ///< samples a row of each plane holds
    double prev_mafd;       ///< the previous pair's mean absolute frame difference
    int64_t cuts;
    DSFNTimeline timeline;  ///< output timestamps; entries carry the input frames' properties
    int eof;                ///< the input has ended and the engine was told so
    int eof_status;
    int in_w, in_h;         ///< input size at configuration (upstream may change the link's later)
    /* Input frames whose R, G and B are equal, by input index (a ring longer than
     * the frames between an input and its outputs): their outputs are made neutral. */
    int64_t grey_index[GREY_RING];
    uint8_t grey[GREY_RING];
    int64_t frames_in;
} DSFNContext;

#define OFFSET(x) offsetof(DSFNContext, x)
#define FLAGS AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_FILTERING_PARAM
/* Options that sendcmd and zmq may change mid-stream: they are read afresh for every frame. */
#define TFLAGS AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_FILTERING_PARAM | AV_OPT_FLAG_RUNTIME_PARAM

static const AVOption dsfn_options[] = {
    { "model",   "weights file or shipped model name (default " DSFN_DEFAULT_MODEL ")", OFFSET(model_path), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, FLAGS },
    { "device",  "cpu, cuda or cuda:N", OFFSET(device), AV_OPT_TYPE_STRING, { .str = "cpu" }, 0, 0, FLAGS },
    { "mode",    "frames to output", OFFSET(mode), AV_OPT_TYPE_INT, { .i64 = MODE_FULL }, 0, MODE_NB - 1, FLAGS, .unit = "mode" },
        { "full",      "keyframes and in-betweens: twice the frame rate", 0, AV_OPT_TYPE_CONST, { .i64 = MODE_FULL },      0, 0, FLAGS, .unit = "mode" },
        { "keyframes", "keyframes only: the input frame rate", 0, AV_OPT_TYPE_CONST, { .i64 = MODE_KEYFRAMES }, 0, 0, FLAGS, .unit = "mode" },
    { "scene",   "scene-cut threshold, 0-100 (0: no cut detection)", OFFSET(scene_threshold), AV_OPT_TYPE_DOUBLE, { .dbl = 8.2 }, 0, 100, TFLAGS },
    { "gap",     "longest pause to interpolate, in seconds (0: no limit)", OFFSET(max_gap), AV_OPT_TYPE_DOUBLE, { .dbl = 1.0 }, 0, 86400, TFLAGS },
    { "max_memory", "memory limit in GiB (0: 80% of what is available)", OFFSET(max_memory), AV_OPT_TYPE_DOUBLE, { .dbl = 0 }, 0, 1 << 20, FLAGS },
    { "precision", "convolution arithmetic", OFFSET(precision), AV_OPT_TYPE_INT, { .i64 = DSFN_PRECISION_AUTO }, DSFN_PRECISION_FP32, DSFN_PRECISION_INT8, FLAGS, .unit = "precision" },
        { "fp32", "single precision", 0, AV_OPT_TYPE_CONST, { .i64 = DSFN_PRECISION_FP32 }, 0, 0, FLAGS, .unit = "precision" },
        { "bf16", "bfloat16, fp32 sums (CPUs with AVX512-BF16 or AMX)", 0, AV_OPT_TYPE_CONST, { .i64 = DSFN_PRECISION_BF16 }, 0, 0, FLAGS, .unit = "precision" },
        { "fp16", "half precision, fp32 sums (device=cuda only)", 0, AV_OPT_TYPE_CONST, { .i64 = DSFN_PRECISION_FP16 }, 0, 0, FLAGS, .unit = "precision" },
        { "auto", "the fastest here of those the model was evaluated in (measured once, then cached)", 0, AV_OPT_TYPE_CONST, { .i64 = DSFN_PRECISION_AUTO }, 0, 0, FLAGS, .unit = "precision" },
        { "int8", "8-bit integer convolutions (CPU; needs MODEL.int8 beside the model)", 0, AV_OPT_TYPE_CONST, { .i64 = DSFN_PRECISION_INT8 }, 0, 0, FLAGS, .unit = "precision" },
    { "tile",    "tile side in input pixels (0: automatic)", OFFSET(tile), AV_OPT_TYPE_INT, { .i64 = 0 }, 0, 65536, FLAGS },
    { "overlap", "context around each tile, in input pixels", OFFSET(overlap), AV_OPT_TYPE_INT, { .i64 = DSFN_DEFAULT_OVERLAP }, 0, 1024, FLAGS },
    { "ensemble", "flipped copies averaged", OFFSET(ensemble), AV_OPT_TYPE_INT, { .i64 = 1 }, 1, 4, FLAGS, .unit = "ensemble" },
        { "off",   "none", 0, AV_OPT_TYPE_CONST, { .i64 = 1 }, 0, 0, FLAGS, .unit = "ensemble" },
        { "hflip", "and the mirror image", 0, AV_OPT_TYPE_CONST, { .i64 = 2 }, 0, 0, FLAGS, .unit = "ensemble" },
        { "all",   "all four flips", 0, AV_OPT_TYPE_CONST, { .i64 = 4 }, 0, 0, FLAGS, .unit = "ensemble" },
    { "edge_mirror", "mirrored input pixels added at each edge (0: none)", OFFSET(edge_mirror), AV_OPT_TYPE_INT, { .i64 = DSFN_DEFAULT_EDGE_MIRROR }, 0, 64, FLAGS },
    { "deterministic", "on a GPU, the same pictures in every process (fixed cuDNN algorithms)", OFFSET(deterministic), AV_OPT_TYPE_BOOL, { .i64 = 0 }, 0, 1, FLAGS },
    { NULL }
};

AVFILTER_DEFINE_CLASS(dsfn);

static int engine_error(AVFilterContext *ctx, int ret)
{
    DSFNContext *s = ctx->priv;

    av_log(ctx, AV_LOG_ERROR, "%s\n", dsfn_engine_error(s->engine));
    return ret;
}

static const char *precision_name(int precision)
{
    switch (precision) {
    case DSFN_PRECISION_BF16: return "bf16";
    case DSFN_PRECISION_FP16: return "fp16";
    case DSFN_PRECISION_INT8: return "int8";
    default:                  return "fp32";
    }
}

static av_cold int init(AVFilterContext *ctx)
{
    DSFNContext *s = ctx->priv;
    DSFNEngineConfig config = dsfn_engine_default_config();
    char path[4096], err[1024];
    const char *why;
    int ret, precision;

    /* libdsfn is linked apart from FFmpeg (statically here, but a packager may
     * ship it shared): a header of another version would misread its structs. */
    if (dsfn_engine_api_version() != DSFN_ENGINE_API_VERSION) {
        av_log(ctx, AV_LOG_ERROR, "libdsfn has engine API version %d, but this filter was built for %d: "
               "rebuild FFmpeg against the libdsfn it runs with.\n",
               dsfn_engine_api_version(), DSFN_ENGINE_API_VERSION);
        return AVERROR(EINVAL);
    }

    if (s->model_path && !*s->model_path) {
        /* Most often a script's empty variable: running the default model instead
         * would hide the mistake. */
        av_log(ctx, AV_LOG_ERROR, "model= is empty: give a shipped model's name or a weights file, "
               "or leave the option out for the default (" DSFN_DEFAULT_MODEL ").\n");
        return AVERROR(EINVAL);
    }

    ret = dsfn_model_resolve(s->model_path, path, sizeof(path), err, sizeof(err));
    if (ret < 0) {
        const char *name = s->model_path && *s->model_path ? s->model_path : DSFN_DEFAULT_MODEL;
        av_log(ctx, AV_LOG_ERROR, "No model named '%s' in %s: a name (with or without .dsfn) is looked up "
               "in DSFN_MODEL_DIR, then in the installed models; a value with a '/' is a file path "
               "(model=./%s for a file here).\n", name, err, name);
        return ret;
    }

    config.model_path   = path;
    config.device       = s->device;
    /* libavfilter's generic threads option (dsfn=threads=N) is the user's count,
     * within the graph's. The graph's own count (ffmpeg -filter_threads; by default
     * one over the cores) is only a default, so it is capped at the cores silently. */
    config.threads      = FFMIN(ff_filter_get_nb_threads(ctx), av_cpu_count());
    if (config.threads < 1)
        config.threads = av_cpu_count();
    if (ctx->nb_threads > av_cpu_count()) {
        /* More threads than cores only wait on each other at every barrier. */
        av_log(ctx, AV_LOG_WARNING, "threads=%d is more than the %d cores here; using %d.\n",
               ctx->nb_threads, av_cpu_count(), config.threads);
    }
    config.with_between = s->mode == MODE_FULL;
    config.max_memory   = s->max_memory * (1 << 30);
    config.precision    = s->precision;
    config.tile         = s->tile;
    config.overlap      = s->overlap;
    config.ensemble     = s->ensemble;
    config.edge_mirror  = s->edge_mirror;
    config.deterministic = s->deterministic;
    /* A count the user chose stays fixed; the automatic one gives way to other work. */
    config.adapt_threads = ctx->nb_threads <= 0;
    s->max_threads       = config.threads;
    s->threads_logged    = config.threads;

    for (int i = 0; i < GREY_RING; i++)
        s->grey_index[i] = -1;

    ret = dsfn_engine_create(&s->engine, &config, err, sizeof(err));
    if (ret < 0) {
        av_log(ctx, AV_LOG_ERROR, "Cannot start the DSFN engine: %s\n", err);
        return ret;
    }
    /* The engine accepted the device: cpu, cuda or cuda:N. */
    s->gpu = strncmp(s->device, "cuda", 4) ? -1 : s->device[4] == ':' ? atoi(s->device + 5) : 0;
    precision = dsfn_engine_precision(s->engine, &why);
    if (s->precision == DSFN_PRECISION_AUTO)
        av_log(ctx, AV_LOG_INFO, "precision %s (auto: %s)\n", precision_name(precision), why);
    av_log(ctx, AV_LOG_VERBOSE, "model %s: width %d, scale %d; device %s, %d threads, %s, ensemble of %d, edge_mirror %d\n",
           path, dsfn_engine_width(s->engine), dsfn_engine_scale(s->engine),
           s->device, config.threads, precision_name(precision), s->ensemble, s->edge_mirror);
    return 0;
}

static av_cold void uninit(AVFilterContext *ctx)
{
    DSFNContext *s = ctx->priv;

    if (s->engine) {
        DSFNEngineStats st;
        dsfn_engine_get_stats(s->engine, &st);
        av_log(ctx, AV_LOG_VERBOSE, "%"PRId64" frames in, %"PRId64" frames out, "
               "%"PRId64" DSFN1 passes, %"PRId64" DSFN2 passes, %"PRId64" cuts, %"PRId64" tiles\n",
               st.frames_in, st.frames_out, st.level1_passes, st.level2_passes, s->cuts, st.tiles);
        av_log(ctx, AV_LOG_VERBOSE, "engine time: DSFN1 %.3f s, DSFN2 %.3f s, pictures to tensors %.3f s, "
               "tensors to pictures %.3f s\n",
               st.level1_seconds, st.level2_seconds, st.input_seconds, st.output_seconds);
    }
    av_frame_free(&s->prev);
    /* Properties of frames whose outputs were never made. */
    while (s->timeline.count) {
        AVFrame *props = dsfn_timeline_discard(&s->timeline);
        av_frame_free(&props);
    }
    dsfn_engine_free(&s->engine);
    ff_dsfn_cuda_close(&s->cuda);
}

/* The engine's layout of a format of pixels; -1 for one it does not read. */
static int layout_of(enum AVPixelFormat format)
{
    switch (format) {
    case AV_PIX_FMT_GBRP:      return DSFN_LAYOUT_GBRP;
    case AV_PIX_FMT_RGB24:     return DSFN_LAYOUT_RGB24;
    case AV_PIX_FMT_GBRP16:    return DSFN_LAYOUT_GBRP16;
    case AV_PIX_FMT_NV12:      return DSFN_LAYOUT_NV12;
    case AV_PIX_FMT_P010:      return DSFN_LAYOUT_P010;
    case AV_PIX_FMT_YUV444P:   return DSFN_LAYOUT_YUV444P;
    case AV_PIX_FMT_YUV444P16: return DSFN_LAYOUT_YUV444P16;
    case AV_PIX_FMT_RGB0:      return DSFN_LAYOUT_RGB0;
    case AV_PIX_FMT_BGR0:      return DSFN_LAYOUT_BGR0;
    default:                   return -1;
    }
}

/* One list for the input and the output, so that the output has the input's
 * format: input of more than 8 bits negotiates 16 bits and keeps them, and CUDA
 * frames stay CUDA frames (taken on the CPU too, only to say what to change:
 * config_input). */
static const enum AVPixelFormat pix_fmts[] = {
    AV_PIX_FMT_GBRP, AV_PIX_FMT_RGB24, AV_PIX_FMT_GBRP16,
#if CONFIG_CUDA
    AV_PIX_FMT_CUDA,
#endif
    AV_PIX_FMT_NONE
};

static int config_input(AVFilterLink *inlink)
{
    AVFilterContext *ctx = inlink->dst;
    DSFNContext *s = ctx->priv;
    FilterLink *il = ff_filter_link(inlink);
    AVHWFramesContext *frames;
    int ret;

    if (inlink->format != AV_PIX_FMT_CUDA)
        return 0;
    if (s->gpu < 0) {
        av_log(ctx, AV_LOG_ERROR, "The input is CUDA frames, but dsfn runs on the CPU: give it device=cuda "
               "to run on the GPU, or put hwdownload,format=nv12 before it.\n");
        return AVERROR(EINVAL);
    }
    if (!il->hw_frames_ctx) {
        av_log(ctx, AV_LOG_ERROR, "CUDA input without a hardware frames context.\n");
        return AVERROR(EINVAL);
    }
    frames = (AVHWFramesContext *)il->hw_frames_ctx->data;
    if (layout_of(frames->sw_format) < 0) {
        av_log(ctx, AV_LOG_ERROR, "CUDA frames in %s: dsfn reads nv12, p010, yuv444p, yuv444p16, rgb0 and "
               "bgr0 (scale_cuda=format=nv12 converts).\n", av_get_pix_fmt_name(frames->sw_format));
        return AVERROR(EINVAL);
    }
    s->in_sw_format = frames->sw_format;
    if ((ret = ff_dsfn_cuda_open(ctx, &s->cuda, s->gpu)) < 0)
        return ret;
    return ff_dsfn_cuda_config_input(ctx, s->cuda, il->hw_frames_ctx);
}

static int config_output(AVFilterLink *outlink)
{
    AVFilterContext *ctx = outlink->src;
    DSFNContext *s = ctx->priv;
    AVFilterLink *inlink = ctx->inputs[0];
    FilterLink *il = ff_filter_link(inlink);
    FilterLink *ol = ff_filter_link(outlink);
    const int scale = dsfn_engine_scale(s->engine);
    const int with_between = s->mode == MODE_FULL;
    AVRational frame_rate = il->frame_rate;
    int64_t default_duration = 1;
    int ret;

    if (inlink->w > INT_MAX / scale || inlink->h > INT_MAX / scale ||
        (ret = av_image_check_size(inlink->w * scale, inlink->h * scale, 0, ctx)) < 0) {
        av_log(ctx, AV_LOG_ERROR, "Input %dx%d is too large to upscale %dx.\n",
               inlink->w, inlink->h, scale);
        return AVERROR(EINVAL);
    }
    s->in_w    = inlink->w;
    s->in_h    = inlink->h;
    /* The scene score's geometry, as scdet sets it up: rows in samples (bytes for
     * 8-bit pictures, 16-bit words for deeper ones). Frames of another size end
     * the stream (activate), so it holds for every frame. The engine scores CUDA
     * frames, on the GPU. */
    if (inlink->format != AV_PIX_FMT_CUDA) {
        s->sad_depth  = av_pix_fmt_desc_get(inlink->format)->comp[0].depth;
        s->sad_planes = av_pix_fmt_count_planes(inlink->format);
        s->sad        = ff_scene_sad_get_fn(s->sad_depth);
        if (!s->sad)
            return AVERROR(EINVAL);
        if ((ret = av_image_fill_linesizes(s->sad_width, inlink->format, inlink->w)) < 0)
            return ret;
        for (int p = 0; p < s->sad_planes; p++)
            s->sad_width[p] >>= s->sad_depth > 8;
    }
    outlink->w = inlink->w * scale;
    outlink->h = inlink->h * scale;
    /* CUDA input (pix_fmts): the output frames have its pixel format, and so
     * keep its colours' coding and tags. */
    if (outlink->format == AV_PIX_FMT_CUDA) {
        if (!s->cuda)
            return AVERROR_BUG;
        ret = ff_dsfn_cuda_output_frames(ctx, s->cuda, s->in_sw_format, outlink->w, outlink->h, &ol->hw_frames_ctx);
        if (ret < 0)
            return ret;
    }
    outlink->sample_aspect_ratio = inlink->sample_aspect_ratio;

    if (frame_rate.num > 0 && frame_rate.den > 0)
        default_duration = FFMAX(av_rescale_q(1, av_inv_q(frame_rate), inlink->time_base), 1);

    outlink->time_base = inlink->time_base;
    if (with_between) {
        /* Halving the time base makes p_k + p_{k+1} exact for any input timing. */
        if (!av_reduce(&outlink->time_base.num, &outlink->time_base.den,
                       inlink->time_base.num, 2LL * inlink->time_base.den, INT_MAX)) {
            av_log(ctx, AV_LOG_ERROR, "Input time base %d/%d is too fine to halve.\n",
                   inlink->time_base.num, inlink->time_base.den);
            return AVERROR(EINVAL);
        }
        if (frame_rate.num > 0 && frame_rate.den > 0)
            frame_rate = av_mul_q(frame_rate, (AVRational){ 2, 1 });
    }
    ol->frame_rate = frame_rate;

    dsfn_timeline_init(&s->timeline, with_between, default_duration);
    av_log(ctx, AV_LOG_VERBOSE, "%dx%d %s -> %dx%d %s, time base %d/%d -> %d/%d, frame rate %d/%d -> %d/%d\n",
           inlink->w, inlink->h, av_get_pix_fmt_name(inlink->format),
           outlink->w, outlink->h, av_get_pix_fmt_name(outlink->format),
           inlink->time_base.num, inlink->time_base.den, outlink->time_base.num, outlink->time_base.den,
           il->frame_rate.num, il->frame_rate.den, frame_rate.num, frame_rate.den);
    return 0;
}

/* The luma weights of a frame's Y'CbCr matrix; an unspecified one is what players
 * assume from the picture's size (the output, 4x larger, may so get another than
 * its input). */
static const AVLumaCoefficients *luma_of(const AVFrame *frame)
{
    const AVLumaCoefficients *luma = av_csp_luma_coeffs_from_avcsp(frame->colorspace);

    if (luma)
        return luma;
    return av_csp_luma_coeffs_from_avcsp(frame->width >= 1280 || frame->height >= 720 ? AVCOL_SPC_BT709
                                                                                      : AVCOL_SPC_BT470BG);
}

static DSFNImage image_of_frame(const AVFrame *frame)
{
    const int on_gpu = frame->format == AV_PIX_FMT_CUDA;
    const enum AVPixelFormat format = on_gpu ? ((AVHWFramesContext *)frame->hw_frames_ctx->data)->sw_format
                                             : frame->format;
    const AVLumaCoefficients *luma = luma_of(frame);
    DSFNImage img = {
        .width      = frame->width,
        .height     = frame->height,
        .layout     = layout_of(format),
        .memory     = on_gpu ? DSFN_MEMORY_DEVICE : DSFN_MEMORY_HOST,
        .kr         = av_q2d(luma->cr),
        .kb         = av_q2d(luma->cb),
        .full_range = frame->color_range == AVCOL_RANGE_JPEG,
    };
    for (int i = 0; i < 3; i++) {
        img.data[i]     = frame->data[i];
        img.linesize[i] = frame->linesize[i];
    }
    return img;
}

/* Whether R, G and B are equal everywhere: grey footage (format=gray and other grey
 * formats reach the filter as RGB with three equal channels). A colour picture
 * differs in its first few pixels, so this costs little. */
static int is_grey(const AVFrame *frame)
{
    const int w = frame->width, h = frame->height;

    for (int y = 0; y < h; y++) {
        if (frame->format == AV_PIX_FMT_RGB24) {
            const uint8_t *p = frame->data[0] + (ptrdiff_t)y * frame->linesize[0];
            for (int x = 0; x < w; x++, p += 3)
                if (p[0] != p[1] || p[0] != p[2])
                    return 0;
        } else {
            const size_t bytes = (size_t)w * (frame->format == AV_PIX_FMT_GBRP16 ? 2 : 1);
            const uint8_t *g = frame->data[0] + (ptrdiff_t)y * frame->linesize[0];
            if (memcmp(g, frame->data[1] + (ptrdiff_t)y * frame->linesize[1], bytes) ||
                memcmp(g, frame->data[2] + (ptrdiff_t)y * frame->linesize[2], bytes))
                return 0;
        }
    }
    return 1;
}

/* The network mixes colours, so from grey input its three channels differ a
 * little: give every pixel their mean, rounded, which is exactly neutral. */
static void make_neutral(AVFrame *frame)
{
    const int w = frame->width, h = frame->height;

    if (frame->format == AV_PIX_FMT_RGB24) {
        for (int y = 0; y < h; y++) {
            uint8_t *p = frame->data[0] + (ptrdiff_t)y * frame->linesize[0];
            for (int x = 0; x < w; x++, p += 3)
                p[0] = p[1] = p[2] = (p[0] + p[1] + p[2] + 1) / 3;
        }
    } else if (frame->format == AV_PIX_FMT_GBRP16) {
        for (int y = 0; y < h; y++) {
            uint16_t *g = (uint16_t *)(frame->data[0] + (ptrdiff_t)y * frame->linesize[0]);
            uint16_t *b = (uint16_t *)(frame->data[1] + (ptrdiff_t)y * frame->linesize[1]);
            uint16_t *r = (uint16_t *)(frame->data[2] + (ptrdiff_t)y * frame->linesize[2]);
            for (int x = 0; x < w; x++)
                g[x] = b[x] = r[x] = (g[x] + b[x] + r[x] + 1) / 3;
        }
    } else {
        for (int y = 0; y < h; y++) {
            uint8_t *g = frame->data[0] + (ptrdiff_t)y * frame->linesize[0];
            uint8_t *b = frame->data[1] + (ptrdiff_t)y * frame->linesize[1];
            uint8_t *r = frame->data[2] + (ptrdiff_t)y * frame->linesize[2];
            for (int x = 0; x < w; x++)
                g[x] = b[x] = r[x] = (g[x] + b[x] + r[x] + 1) / 3;
        }
    }
}

/*
 * Scene-change score of `in` against the previous frame, 0..100, as scdet
 * computes it (and framerate, on its one luma plane): the mean absolute frame
 * difference over all planes in percent of full scale, less what the previous
 * pair already differed, so steady motion scores low and a sudden change high.
 */
static double scene_score(AVFilterContext *ctx, const AVFrame *prev, const AVFrame *in)
{
    DSFNContext *s = ctx->priv;
    uint64_t sad = 0, count = 0;
    double mafd, diff;

    if (in->format == AV_PIX_FMT_CUDA) {
        DSFNImage a = image_of_frame(prev), b = image_of_frame(in);

        if (dsfn_engine_picture_difference(s->engine, &a, &b, &mafd) < 0) {
            av_log(ctx, AV_LOG_WARNING, "No scene score: %s\n", dsfn_engine_error(s->engine));
            mafd = s->prev_mafd;
        }
    } else {
        for (int p = 0; p < s->sad_planes; p++) {
            uint64_t plane_sad;

            s->sad(prev->data[p], prev->linesize[p], in->data[p], in->linesize[p], s->sad_width[p], in->height,
                   &plane_sad);
            sad   += plane_sad;
            count += (uint64_t)s->sad_width[p] * in->height;
        }
        mafd = (double)sad * 100.0 / count / (1ULL << s->sad_depth);
    }
    diff = fabs(mafd - s->prev_mafd);
    s->prev_mafd = mafd;
    return av_clipd(FFMIN(mafd, diff), 0, 100.0);
}

/* Whether a cut lies between the previous frame and `in`; sets *why if so. */
static int is_cut(AVFilterContext *ctx, const AVFrame *in, const char **why)
{
    DSFNContext *s = ctx->priv;
    double score = 0;

    if (!s->prev)
        return 0;
    /* Scored on every pair, cut or not, so that a decision depends only on the
     * last three frames: a segment of a video given those as context decides as
     * the whole video does (dsfn-parallel). */
    if (s->scene_threshold > 0)
        score = scene_score(ctx, s->prev, in);
    if (s->max_gap > 0 && in->pts != AV_NOPTS_VALUE && s->prev->pts != AV_NOPTS_VALUE) {
        const double gap = (in->pts - s->prev->pts) * av_q2d(ctx->inputs[0]->time_base);
        if (gap < 0 || gap > s->max_gap) {
            *why = gap < 0 ? "timestamp jumps backwards" : "timestamp gap";
            return 1;
        }
    }
    if (s->scene_threshold <= 0)
        return 0;
    if (av_dict_get(in->metadata, "lavfi.scd.time", NULL, 0)) {
        *why = "scdet";
        return 1;
    }
    if (score >= s->scene_threshold) {
        *why = "scene change";
        return 1;
    }
    return 0;
}

static int push_frame(AVFilterContext *ctx, AVFrame *in)
{
    DSFNContext *s = ctx->priv;
    DSFNImage img;
    AVFrame *props = NULL;
    DSFNEngineStats st;
    const char *why = NULL;
    int ret;

    if ((in->flags & AV_FRAME_FLAG_INTERLACED) && !s->interlace_logged) {
        /* The network reads whole pictures: two fields woven into one come out
         * as combing, upscaled. */
        av_log(ctx, AV_LOG_WARNING, "The input is interlaced; dsfn makes progressive frames from whole "
               "pictures, so deinterlace first (e.g. -vf bwdif,dsfn or yadif,dsfn).\n");
        s->interlace_logged = 1;
    }

    if (in->format == AV_PIX_FMT_CUDA && (ret = ff_dsfn_cuda_input_ready(ctx, s->cuda, &in)) < 0)
        goto fail;
    img = image_of_frame(in);

    if (is_cut(ctx, in, &why)) {
        /* End the window here: the frames before are padded, never mixed with these. */
        av_log(ctx, AV_LOG_VERBOSE, "Cut before pts %"PRId64": %s.\n", in->pts, why);
        ret = dsfn_engine_end_segment(s->engine);
        if (ret < 0) {
            engine_error(ctx, ret);
            goto fail;
        }
        s->cuts++;
    }

    ret = dsfn_engine_send(s->engine, &img);
    if (ret < 0) {
        engine_error(ctx, ret);
        goto fail;
    }
    s->grey_index[s->frames_in % GREY_RING] = s->frames_in;
    /* Grey footage in CUDA frames keeps the network's colours: reading it back costs more. */
    s->grey[s->frames_in % GREY_RING]       = in->format != AV_PIX_FMT_CUDA && is_grey(in);
    s->frames_in++;
    dsfn_engine_get_stats(s->engine, &st);
    if (st.overlap != s->overlap_logged && st.overlap < s->overlap) {
        av_log(ctx, AV_LOG_WARNING, "overlap=%d is more than the %d pixels of the picture's larger side "
               "(edge_mirror included); using %d: the same pictures.\n", s->overlap, st.overlap, st.overlap);
        s->overlap_logged = st.overlap;
    }
    if (st.tile_grown && !s->tile_grown_logged) {
        if (st.tile)
            av_log(ctx, AV_LOG_WARNING, "tile=%d is smaller than the %d pixels of context each tile reads; "
                   "using tiles of %d.\n", s->tile, st.overlap, st.tile);
        else
            av_log(ctx, AV_LOG_WARNING, "tile=%d is smaller than the %d pixels of context each tile reads; "
                   "running whole pictures.\n", s->tile, st.overlap);
    }
    s->tile_grown_logged = st.tile_grown;
    if (st.tile != s->tile_logged) {
        av_log(ctx, AV_LOG_INFO, st.tile ? "%dx%d pictures run in tiles of %d pixels (overlap %d).\n"
                                         : "%dx%d pictures run whole.\n", in->width, in->height, st.tile, st.overlap);
        s->tile_logged = st.tile;
    }

    /* Keep the properties (metadata, side data, colour) without the pixels. */
    props = av_frame_alloc();
    if (!props) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    ret = av_frame_copy_props(props, in);
    if (ret < 0)
        goto fail;

    ret = dsfn_timeline_push(&s->timeline, in->pts, in->duration, props);
    if (ret < 0) {
        av_log(ctx, AV_LOG_ERROR, "Too many frames waiting for output.\n");
        ret = AVERROR_BUG;
        goto fail;
    }
    if (ret > 0)
        av_log(ctx, AV_LOG_WARNING, "Frame with %s timestamp %"PRId64"; using %"PRId64".\n",
               in->pts == AV_NOPTS_VALUE ? "no" : "non-increasing", in->pts, s->timeline.last_pts);
    /* Kept for the next frame's cut detection. */
    av_frame_free(&s->prev);
    s->prev = in;
    return 0;

fail:
    av_frame_free(&props);
    av_frame_free(&in);
    return ret;
}

/* 1 if input frame i was grey, 0 if not, -1 if it is not known (none was sent). */
static int grey_at(const DSFNContext *s, int64_t i)
{
    return s->grey_index[i % GREY_RING] == i ? s->grey[i % GREY_RING] : -1;
}

/* A keyframe from a grey frame, or an in-between frame of two grey frames (or of
 * one before a cut or the end, which it repeats). */
static int output_is_grey(const DSFNContext *s, const DSFNOutputInfo *info)
{
    if (grey_at(s, info->input_index) != 1)
        return 0;
    return !info->is_between || grey_at(s, info->input_index + 1) != 0;
}

/* The thread count follows the load (engine.h, adapt_threads): say when it changes. */
static void log_threads(AVFilterContext *ctx)
{
    DSFNContext *s = ctx->priv;
    DSFNEngineStats st;

    dsfn_engine_get_stats(s->engine, &st);
    if (st.threads == s->threads_logged)
        return;
    av_log(ctx, AV_LOG_VERBOSE, "using %d of %d threads: other work keeps %.1f cores busy.\n",
           st.threads, s->max_threads, st.others_busy);
    s->threads_logged = st.threads;
}

/* Send the next output frame if the engine has one: 1 if sent, 0 if none. */
static int output_frame(AVFilterContext *ctx)
{
    DSFNContext *s = ctx->priv;
    AVFilterLink *outlink = ctx->outputs[0];
    DSFNOutputInfo info;
    DSFNImage img;
    AVFrame *out, *props;
    int64_t pts, duration;
    int ret;

    ret = dsfn_engine_output_ready(s->engine);
    if (ret < 0)
        return engine_error(ctx, ret);
    if (!ret || dsfn_timeline_peek(&s->timeline, &pts, &duration, (void **)&props) < 0)
        return 0;

    out = ff_get_video_buffer(outlink, outlink->w, outlink->h);
    if (!out)
        return AVERROR(ENOMEM);
    ret = av_frame_copy_props(out, props);
    if (ret < 0)
        goto fail;

    img = image_of_frame(out);
    ret = dsfn_engine_receive(s->engine, &img, &info);
    if (ret < 0) {
        engine_error(ctx, ret);
        goto fail;
    }
    if (info.is_between != s->timeline.next_is_between) {
        av_log(ctx, AV_LOG_ERROR, "Output order out of step with the timeline.\n");
        ret = AVERROR_BUG;
        goto fail;
    }
    out->pts      = pts;
    out->duration = duration;
    if (info.is_between)
        out->flags &= ~AV_FRAME_FLAG_KEY;
    /* New pictures, made whole: progressive, whatever the input was. */
    out->flags &= ~(AV_FRAME_FLAG_INTERLACED | AV_FRAME_FLAG_TOP_FIELD_FIRST);
#if defined(FF_API_INTERLACED_FRAME) && FF_API_INTERLACED_FRAME
FF_DISABLE_DEPRECATION_WARNINGS
    out->interlaced_frame = 0;
    out->top_field_first  = 0;
FF_ENABLE_DEPRECATION_WARNINGS
#endif
    if (out->format != AV_PIX_FMT_CUDA && output_is_grey(s, &info))
        make_neutral(out);
    log_threads(ctx);

    props = dsfn_timeline_advance(&s->timeline);
    av_frame_free(&props);

    ret = ff_filter_frame(outlink, out);
    return ret < 0 ? ret : 1;

fail:
    av_frame_free(&out);
    return ret;
}

/* No more input: flush the window; the output ends with `status` once all is out. */
static int end_input(AVFilterContext *ctx, int status, int64_t pts)
{
    DSFNContext *s = ctx->priv;
    int ret;

    s->eof        = 1;
    s->eof_status = status;
    dsfn_timeline_set_eof(&s->timeline, pts);
    ret = dsfn_engine_end_segment(s->engine);
    if (ret < 0)
        return engine_error(ctx, ret);
    ff_filter_set_ready(ctx, 100);
    return 0;
}

static int activate(AVFilterContext *ctx)
{
    DSFNContext *s = ctx->priv;
    AVFilterLink *inlink = ctx->inputs[0];
    AVFilterLink *outlink = ctx->outputs[0];
    AVFrame *in;
    int64_t pts;
    int ret, status;

    FF_FILTER_FORWARD_STATUS_BACK(outlink, inlink);

    ret = output_frame(ctx);
    if (ret < 0)
        return ret;
    if (ret > 0) {
        ff_filter_set_ready(ctx, 100);
        return 0;
    }

    if (s->eof) {
        /* Everything was output: the stream ends where the last frame does. */
        ff_outlink_set_status(outlink, s->eof_status, dsfn_timeline_end_pts(&s->timeline));
        return 0;
    }

    ret = ff_inlink_consume_frame(inlink, &in);
    if (ret < 0)
        return ret;
    if (ret > 0 && (in->width != s->in_w || in->height != s->in_h)) {
        /* The output size is fixed at configuration: end the stream here with
         * an error, after the frames before the change have been output. */
        av_log(ctx, AV_LOG_ERROR, "Frame size changed mid-stream from %dx%d to %dx%d at pts %"PRId64"; "
               "dsfn needs one size per stream: put a scale filter before it.\n",
               s->in_w, s->in_h, in->width, in->height, in->pts);
        pts = in->pts;
        av_frame_free(&in);
        ff_inlink_set_status(inlink, AVERROR_EOF);
        return end_input(ctx, AVERROR(EINVAL), pts);
    }
    if (ret > 0) {
        ret = push_frame(ctx, in);
        if (ret < 0)
            return ret;
        ff_filter_set_ready(ctx, 100);
        return 0;
    }

    if (ff_inlink_acknowledge_status(inlink, &status, &pts))
        return end_input(ctx, status, pts);

    FF_FILTER_FORWARD_WANTED(outlink, inlink);

    return FFERROR_NOT_READY;
}

static int process_command(AVFilterContext *ctx, const char *cmd, const char *args,
                           char *res, int res_len, int flags)
{
    /* The filter's own options, then libavfilter's generic ones (threads). */
    const AVOption *o = av_opt_find(ctx->priv, cmd, NULL, 0, 0);

    if (!o)
        o = av_opt_find(ctx, cmd, NULL, 0, 0);
    if (o && o->type != AV_OPT_TYPE_CONST && !(o->flags & AV_OPT_FLAG_RUNTIME_PARAM)) {
        av_log(ctx, AV_LOG_ERROR, "Option '%s' cannot change mid-stream (scene and gap can): "
               "set it when the filter is created.\n", cmd);
        if (res && res_len > 0)
            snprintf(res, res_len, "dsfn: %s cannot change mid-stream; scene and gap can", cmd);
        return AVERROR(EINVAL);
    }
    return ff_filter_process_command(ctx, cmd, args, res, res_len, flags);
}

static const AVFilterPad dsfn_inputs[] = {
    {
        .name         = "default",
        .type         = AVMEDIA_TYPE_VIDEO,
        .config_props = config_input,
    },
};

static const AVFilterPad dsfn_outputs[] = {
    {
        .name         = "default",
        .type         = AVMEDIA_TYPE_VIDEO,
        .config_props = config_output,
    },
};

/* FFmpeg 8.0 (libavfilter 11) moved the public fields into FFFilter.p. */
#if LIBAVFILTER_VERSION_MAJOR >= 11
const FFFilter ff_vf_dsfn = {
    .p.name        = "dsfn",
    .p.description = NULL_IF_CONFIG_SMALL("Deblur, upscale 4x and double the frame rate with the DSFN network."),
    .p.priv_class  = &dsfn_class,
#else
const AVFilter ff_vf_dsfn = {
    .name          = "dsfn",
    .description   = NULL_IF_CONFIG_SMALL("Deblur, upscale 4x and double the frame rate with the DSFN network."),
    .priv_class    = &dsfn_class,
#endif
    .priv_size     = sizeof(DSFNContext),
    .init          = init,
    .uninit        = uninit,
    .activate      = activate,
    .process_command = process_command,
    FILTER_INPUTS(dsfn_inputs),
    FILTER_OUTPUTS(dsfn_outputs),
    FILTER_PIXFMTS_ARRAY(pix_fmts),
    .flags_internal = FF_FILTER_FLAG_HWFRAME_AWARE,
};
