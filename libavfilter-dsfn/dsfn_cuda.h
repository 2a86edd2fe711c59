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
 * CUDA frames for the dsfn filter. The engine (LibTorch) computes in the GPU's
 * primary context; CUDA frames are read and written there: the GPU is opened
 * as an FFmpeg CUDA device on that context, frames from a device of another
 * context (ffmpeg -hwaccel cuda makes its own) are copied into it on the GPU,
 * and output frames come from a pool on it. In a build without CUDA every call
 * fails with a message.
 */

#ifndef AVFILTER_DSFN_CUDA_H
#define AVFILTER_DSFN_CUDA_H

#include "libavutil/buffer.h"
#include "libavutil/frame.h"
#include "libavutil/pixfmt.h"

#include "avfilter.h"

typedef struct DSFNCuda DSFNCuda;

/**
 * Open GPU number gpu (as device=cuda:N names it) on its primary context, once:
 * nothing is done when *cuda is already open. On failure *cuda stays NULL.
 */
int ff_dsfn_cuda_open(AVFilterContext *ctx, DSFNCuda **cuda, int gpu);

void ff_dsfn_cuda_close(DSFNCuda **cuda);

/**
 * Check the input link's frames context (on the same GPU) and prepare to read
 * its frames: in place on the primary context, else through copies.
 */
int ff_dsfn_cuda_config_input(AVFilterContext *ctx, DSFNCuda *cuda, AVBufferRef *frames);

/** A new frames context of w x h frames in sw_format on the GPU, for the output link. */
int ff_dsfn_cuda_output_frames(AVFilterContext *ctx, DSFNCuda *cuda, enum AVPixelFormat sw_format,
                               int w, int h, AVBufferRef **frames);

/**
 * Wait until the input frame *in is written, having replaced it by a copy on the
 * primary context if it is on another (then *in is unreferenced). On failure *in
 * is left as it was.
 */
int ff_dsfn_cuda_input_ready(AVFilterContext *ctx, DSFNCuda *cuda, AVFrame **in);

#endif /* AVFILTER_DSFN_CUDA_H */
