/*
 * C API of the DSFN engine (C++, LibTorch). Every call catches its C++
 * exceptions; errors are returned as negative errno values (AVERROR-compatible)
 * with a message available from dsfn_engine_error().
 */
#ifndef DSFN_ENGINE_H
#define DSFN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped with every change of this header's structs or functions; libdsfn.pc's
 * Version is this number, and the patch sets' configure requires it. */
#define DSFN_ENGINE_API_VERSION 11

/* A failure inside LibTorch; same value as FFmpeg's AVERROR_EXTERNAL. */
#define DSFN_ERROR_EXTERNAL (-0x20545845)

typedef struct DSFNEngine DSFNEngine;

enum DSFNPixelLayout {
    DSFN_LAYOUT_GBRP,      /* three 8-bit planes: G, B, R */
    DSFN_LAYOUT_RGB24,     /* one packed 8-bit plane: R, G, B */
    DSFN_LAYOUT_GBRP16,    /* three planes of native-endian 16-bit samples (0-65535): G, B, R */
    /* What GPU decoders give and encoders take (FFmpeg's CUDA frames); Y'CbCr
     * layouts are read and written with the image's kr, kb and full_range. */
    DSFN_LAYOUT_NV12,      /* 8-bit Y plane, then one plane of Cb, Cr pairs at half width and height */
    DSFN_LAYOUT_P010,      /* as NV12 in 16-bit samples holding 10 bits in their high bits */
    DSFN_LAYOUT_YUV444P,   /* three 8-bit planes: Y, Cb, Cr */
    DSFN_LAYOUT_YUV444P16, /* three planes of native-endian 16-bit samples: Y, Cb, Cr */
    DSFN_LAYOUT_RGB0,      /* one packed plane of 4 bytes a pixel: R, G, B, unused */
    DSFN_LAYOUT_BGR0,      /* one packed plane of 4 bytes a pixel: B, G, R, unused */
};

/* Where an image's samples are. */
enum DSFNMemory {
    DSFN_MEMORY_HOST,   /* the CPU's memory */
    DSFN_MEMORY_DEVICE, /* the engine's GPU, in its primary CUDA context (LibTorch's): the
                           engine reads and writes it on its own stream and waits for that
                           work before it returns, so the caller may reuse the memory then */
};

/* A picture in caller-owned memory; linesizes in bytes. The fields after layout
 * may be left zero for RGB pictures in host memory. */
typedef struct DSFNImage {
    uint8_t *data[3];
    int linesize[3];
    int width, height;
    enum DSFNPixelLayout layout;
    enum DSFNMemory memory;
    double kr, kb;          /* Y'CbCr: the matrix's luma weights of R and B (BT.709: 0.2126 and
                               0.0722; BT.601: 0.299 and 0.114), each above 0, their sum below 1 */
    int full_range;         /* Y'CbCr: 1 full range (0-255 at 8 bits), 0 limited (16-235, 16-240) */
} DSFNImage;

enum DSFNPrecision {
    DSFN_PRECISION_FP32, /* everything in fp32 */
    DSFN_PRECISION_BF16, /* convolutions in bf16 (CPUs with AVX512-BF16/AMX run them ~2x
                            faster); residual bases, sums and sampling stay fp32 */
    DSFN_PRECISION_FP16, /* convolutions in fp16, on a GPU only; as bf16 otherwise */
    DSFN_PRECISION_AUTO, /* the fastest, measured on this machine when the engine is
                            created, of fp32 and the precisions the model's recipe lists
                            as evaluated within 0.05 dB of fp32 (its "precisions" line);
                            fp32 when it lists none. dsfn_engine_precision() says which. */
    DSFN_PRECISION_INT8, /* convolutions in 8-bit integers on the CPU (VNNI/AMX run them
                            several times faster than fp32), with the activation ranges
                            shipped beside the model (MODEL.int8); the deformable warp and
                            the sums with the residual bases stay fp32 */
};

typedef struct DSFNEngineConfig {
    const char *model_path; /* DSFN weights file */
    const char *device;     /* "cpu", "cuda" or "cuda:N" (cuda: the first GPU); on a GPU the
                               engine queues its work on a stream of its own */
    int threads;            /* CPU threads for LibTorch; <= 0: leave as is */
    int with_between;       /* 1: keyframes and in-between frames; 0: keyframes only */
    double max_memory;      /* bytes the engine may use (state + one pass); <= 0: 80% of the
                               memory available (on a GPU, of the device's free memory);
                               larger pictures run in tiles */
    int precision;          /* a DSFNPrecision (an int, so a bad value is an error, not UB) */
    int tile;               /* tile side in input pixels; 0: automatic (whole pictures when
                               they fit max_memory, else the largest tiles that do); else >= 16 */
    int overlap;            /* context read around each tile, in input pixels */
    int ensemble;           /* flipped copies of each pass averaged (0 or 1: none; 2: and
                               mirrored; 4: each also upside down), as many times the time */
    int edge_mirror;        /* input pixels of mirror image added at each edge before the
                               network and cropped from its output (0 to 64; 0: none) */
    int adapt_threads;      /* 1: use fewer than `threads` while other work keeps cores
                               busy (measured before each pass; the pictures are the same) */
    int deterministic;      /* on a GPU, 1: cuDNN's fixed choice of algorithms instead of
                               timing them, so that every process on the same GPU model
                               computes the same pictures (process-wide; a little slower);
                               on a CPU the pictures are fixed anyway */
} DSFNEngineConfig;

/* Defaults of the options that have one (the filter's options table uses them). */
#define DSFN_DEFAULT_OVERLAP     16
#define DSFN_DEFAULT_EDGE_MIRROR 4

typedef struct DSFNOutputInfo {
    int64_t input_index; /* keyframe index within the stream */
    int is_between;      /* 1: the frame halfway between input_index and the next */
} DSFNOutputInfo;

typedef struct DSFNEngineStats {
    int64_t level1_passes, level2_passes;
    int64_t frames_in, frames_out;
    int64_t tiles;          /* tiles run, over all passes (0 while pictures are whole) */
    int tile;               /* tile side of the current segment; 0: whole pictures */
    int tile_grown;         /* 1: the tile option was smaller than the context each tile
                               reads, and the tiles were grown to that context */
    int overlap;            /* context read around each tile in the current segment: the
                               overlap option, at most the picture's larger side */
    /* Wall-clock seconds spent inside the engine, by stage: */
    double level1_seconds;  /* DSFN1 passes */
    double level2_seconds;  /* DSFN2 passes, keyframe averaging included */
    double input_seconds;   /* pictures to tensors */
    double output_seconds;  /* tensors to pictures (pixel shuffle, rounding) */
    int threads;            /* threads of the last pass */
    double others_busy;     /* cores that other work kept busy, measured before that pass */
} DSFNEngineStats;

int dsfn_engine_api_version(void);

/* What a user who sets nothing gets: device cpu, keyframes and in-between frames,
 * precision auto, automatic tiles with DSFN_DEFAULT_OVERLAP, no ensemble,
 * DSFN_DEFAULT_EDGE_MIRROR, threads left as they are (0) and adapted to the load.
 * model_path is NULL: the caller names a weights file. */
DSFNEngineConfig dsfn_engine_default_config(void);

/* On failure *engine is NULL and err (if not NULL) holds the reason. */
int dsfn_engine_create(DSFNEngine **engine, const DSFNEngineConfig *config, char *err, size_t err_size);
void dsfn_engine_free(DSFNEngine **engine);

/* The precision the engine runs (never auto). For auto, *reason (if reason is not
 * NULL) says why, e.g. "1.83x fp32 here, measured in 0.41 s"; else it is "". The
 * text lives as long as the engine. */
int dsfn_engine_precision(const DSFNEngine *engine, const char **reason);

/* Output scale factor and model width of the loaded network. */
int dsfn_engine_scale(const DSFNEngine *engine);
int dsfn_engine_width(const DSFNEngine *engine);

/* Queue one input picture (copied). All pictures of a segment have one size.
 * A picture too large to process within the memory limit fails with -ENOMEM. */
int dsfn_engine_send(DSFNEngine *engine, const DSFNImage *image);
/* End the current segment (end of stream or scene cut): the window is padded
 * with the last frame and the next picture starts a new segment. */
int dsfn_engine_end_segment(DSFNEngine *engine);
/* Run passes until an output is ready. Returns 1 when one is, 0 when more
 * input (or the end of the segment) is needed, or a negative error. */
int dsfn_engine_output_ready(DSFNEngine *engine);
/* Write the next ready output (scale x the input size) into image. */
int dsfn_engine_receive(DSFNEngine *engine, DSFNImage *image, DSFNOutputInfo *info);

/* The mean absolute difference of two pictures of one size and layout, over all
 * samples of all planes, in percent of full scale: the measure of FFmpeg's scdet,
 * for pictures in device memory, which the caller cannot read. */
int dsfn_engine_picture_difference(DSFNEngine *engine, const DSFNImage *a, const DSFNImage *b, double *percent);

void dsfn_engine_get_stats(const DSFNEngine *engine, DSFNEngineStats *stats);
/* Message of the last error, "" if none. */
const char *dsfn_engine_error(const DSFNEngine *engine);

#ifdef __cplusplus
}
#endif

#endif /* DSFN_ENGINE_H */
