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


#include "config.h"

#include <stdio.h>

#include "libavutil/error.h"
#include "libavutil/log.h"
#include "libavutil/mem.h"

#include "dsfn_cuda.h"

#if CONFIG_CUDA

#include "libavutil/dict.h"
#include "libavutil/hwcontext.h"
#include "libavutil/hwcontext_cuda_internal.h"
#include "libavutil/cuda_check.h"

#define CHECK_CU(x) FF_CUDA_CHECK_DL(ctx, cuda->cu, x)

struct DSFNCuda {
    CudaFunctions *cu;    ///< the driver's functions, loaded at run time
    CUdevice dev;
    CUcontext primary;    ///< the GPU's primary context (LibTorch's), retained; NULL if not
    AVBufferRef *device;  ///< an FFmpeg CUDA device on that context
    AVBufferRef *staging; ///< frames on it for input of another context; NULL when none
};

int ff_dsfn_cuda_open(AVFilterContext *ctx, DSFNCuda **pcuda, int gpu)
{
    DSFNCuda *cuda;
    AVDictionary *opts = NULL;
    CUcontext dummy;
    char index[16];
    int ret;

    if (*pcuda)
        return 0;
    cuda = av_mallocz(sizeof(*cuda));
    if (!cuda)
        return AVERROR(ENOMEM);

    ret = cuda_load_functions(&cuda->cu, ctx);
    if (ret < 0) {
        av_log(ctx, AV_LOG_ERROR, "Cannot load the CUDA driver (libcuda) for CUDA frames.\n");
        ret = AVERROR(ENOSYS);
        goto fail;
    }
    if ((ret = CHECK_CU(cuda->cu->cuInit(0))) < 0 ||
        (ret = CHECK_CU(cuda->cu->cuDeviceGet(&cuda->dev, gpu))) < 0 ||
        (ret = CHECK_CU(cuda->cu->cuDevicePrimaryCtxRetain(&cuda->primary, cuda->dev))) < 0)
        goto fail;

    /* FFmpeg's device takes the context current at its creation (current_ctx):
     * its primary_ctx option would refuse a primary context that LibTorch has
     * already started with other flags. */
    if ((ret = CHECK_CU(cuda->cu->cuCtxPushCurrent(cuda->primary))) < 0)
        goto fail;
    snprintf(index, sizeof(index), "%d", gpu);
    ret = av_dict_set(&opts, "current_ctx", "1", 0);
    if (ret >= 0)
        ret = av_hwdevice_ctx_create(&cuda->device, AV_HWDEVICE_TYPE_CUDA, index, opts, 0);
    av_dict_free(&opts);
    CHECK_CU(cuda->cu->cuCtxPopCurrent(&dummy));
    if (ret < 0) {
        av_log(ctx, AV_LOG_ERROR, "Cannot open GPU %d as a CUDA device for frames: %s.\n", gpu, av_err2str(ret));
        goto fail;
    }
    *pcuda = cuda;
    return 0;

fail:
    ff_dsfn_cuda_close(&cuda);
    return ret;
}

void ff_dsfn_cuda_close(DSFNCuda **pcuda)
{
    DSFNCuda *cuda = *pcuda;

    if (!cuda)
        return;
    av_buffer_unref(&cuda->staging);
    av_buffer_unref(&cuda->device);
    if (cuda->primary)
        cuda->cu->cuDevicePrimaryCtxRelease(cuda->dev);
    cuda_free_functions(&cuda->cu);
    av_freep(pcuda);
}

int ff_dsfn_cuda_config_input(AVFilterContext *ctx, DSFNCuda *cuda, AVBufferRef *frames_ref)
{
    AVHWFramesContext *frames = (AVHWFramesContext *)frames_ref->data;
    AVCUDADeviceContext *theirs = frames->device_ctx->hwctx;
    AVCUDADeviceContext *ours = ((AVHWDeviceContext *)cuda->device->data)->hwctx;
    AVHWFramesContext *staging;
    int ret;

    if (theirs->internal->cuda_device != cuda->dev) {
        av_log(ctx, AV_LOG_ERROR, "The CUDA frames are on GPU %d, but dsfn runs on GPU %d: give it "
               "device=cuda:%d.\n", (int)theirs->internal->cuda_device, (int)cuda->dev,
               (int)theirs->internal->cuda_device);
        return AVERROR(EINVAL);
    }
    av_buffer_unref(&cuda->staging);
    if (theirs->cuda_ctx == ours->cuda_ctx)
        return 0;

    /* A kernel reads only its own context's memory, but a copy reads any on the GPU. */
    av_log(ctx, AV_LOG_VERBOSE, "The CUDA frames come from another context than LibTorch's: each is "
           "copied on the GPU before dsfn reads it.\n");
    cuda->staging = av_hwframe_ctx_alloc(cuda->device);
    if (!cuda->staging)
        return AVERROR(ENOMEM);
    staging            = (AVHWFramesContext *)cuda->staging->data;
    staging->format    = AV_PIX_FMT_CUDA;
    staging->sw_format = frames->sw_format;
    staging->width     = frames->width;
    staging->height    = frames->height;
    ret = av_hwframe_ctx_init(cuda->staging);
    if (ret < 0)
        av_buffer_unref(&cuda->staging);
    return ret;
}

int ff_dsfn_cuda_output_frames(AVFilterContext *ctx, DSFNCuda *cuda, enum AVPixelFormat sw_format,
                               int w, int h, AVBufferRef **out)
{
    AVBufferRef *ref = av_hwframe_ctx_alloc(cuda->device);
    AVHWFramesContext *frames;
    int ret;

    if (!ref)
        return AVERROR(ENOMEM);
    frames            = (AVHWFramesContext *)ref->data;
    frames->format    = AV_PIX_FMT_CUDA;
    frames->sw_format = sw_format;
    frames->width     = w;
    frames->height    = h;
    ret = av_hwframe_ctx_init(ref);
    if (ret < 0) {
        av_log(ctx, AV_LOG_ERROR, "Cannot make %dx%d CUDA output frames: %s.\n", w, h, av_err2str(ret));
        av_buffer_unref(&ref);
        return ret;
    }
    av_buffer_unref(out);
    *out = ref;
    return 0;
}

int ff_dsfn_cuda_input_ready(AVFilterContext *ctx, DSFNCuda *cuda, AVFrame **in)
{
    AVHWFramesContext *frames = (AVHWFramesContext *)(*in)->hw_frames_ctx->data;
    AVCUDADeviceContext *hw = frames->device_ctx->hwctx;
    AVFrame *copy = NULL;
    CUcontext dummy;
    int ret;

    if (cuda->staging) {
        copy = av_frame_alloc();
        if (!copy)
            return AVERROR(ENOMEM);
        ret = av_hwframe_get_buffer(cuda->staging, copy, 0);
        if (ret >= 0) {
            copy->width  = (*in)->width;
            copy->height = (*in)->height;
            ret = av_hwframe_transfer_data(copy, *in, 0);
        }
        if (ret >= 0)
            ret = av_frame_copy_props(copy, *in);
        if (ret < 0) {
            av_frame_free(&copy);
            return ret;
        }
    }

    /* The frame's maker (a decoder, a filter) and the copy above queue their work
     * on the stream of the frames' device; the engine reads on a stream of its own. */
    ret = CHECK_CU(cuda->cu->cuCtxPushCurrent(hw->cuda_ctx));
    if (ret >= 0) {
        ret = CHECK_CU(cuda->cu->cuStreamSynchronize(hw->stream));
        CHECK_CU(cuda->cu->cuCtxPopCurrent(&dummy));
    }
    if (ret < 0) {
        av_frame_free(&copy);
        return ret;
    }
    if (copy) {
        av_frame_free(in);
        *in = copy;
    }
    return 0;
}

#else /* !CONFIG_CUDA */

struct DSFNCuda {
    int unused;
};

int ff_dsfn_cuda_open(AVFilterContext *ctx, DSFNCuda **cuda, int gpu)
{
    av_log(ctx, AV_LOG_ERROR, "This FFmpeg was built without CUDA (configure found no ffnvcodec): "
           "dsfn cannot take or give CUDA frames.\n");
    return AVERROR(ENOSYS);
}

void ff_dsfn_cuda_close(DSFNCuda **cuda)
{
    av_freep(cuda);
}

int ff_dsfn_cuda_config_input(AVFilterContext *ctx, DSFNCuda *cuda, AVBufferRef *frames)
{
    return AVERROR(ENOSYS);
}

int ff_dsfn_cuda_output_frames(AVFilterContext *ctx, DSFNCuda *cuda, enum AVPixelFormat sw_format,
                               int w, int h, AVBufferRef **frames)
{
    return AVERROR(ENOSYS);
}

int ff_dsfn_cuda_input_ready(AVFilterContext *ctx, DSFNCuda *cuda, AVFrame **in)
{
    return AVERROR(ENOSYS);
}

#endif /* CONFIG_CUDA */
