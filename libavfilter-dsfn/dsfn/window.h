/*
 * DSFN frame window and timestamps: pure bookkeeping, no images, so it can be
 * tested on its own. Shared by the engine (which level-1/level-2 pass to run
 * next) and the filter (output timestamps).
 *
 * Within a segment (a stream, or the frames between scene cuts) of N input
 * frames B_0..B_{N-1}, indices outside [0, N-1] are clamped (the first and last
 * frames repeat). Triple j is (B_{j-1}, B_j, B_{j+1}) and is run through DSFN1
 * once; window k uses triples k and k+1 (B_{k-1}..B_{k+2}) in DSFN2 and yields
 * the in-between frame k+1/2 and both keyframes k and k+1. Keyframe k is the
 * mean of the estimates of windows k-1 and k (window 0 alone for k = 0).
 */
#ifndef DSFN_WINDOW_H
#define DSFN_WINDOW_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct DSFNWindow {
    int64_t received; /* frames received in this segment */
    int ended;        /* no more frames will come in this segment */
    int64_t triples;  /* level-1 passes done: triples 0..triples-1 */
    int64_t windows;  /* level-2 passes done: windows 0..windows-1 */
} DSFNWindow;

enum DSFNStepType {
    DSFN_STEP_NEED_INPUT = 0, /* nothing to do until another frame (or the end) arrives */
    DSFN_STEP_LEVEL1,         /* run DSFN1 on triple `index` (frames frame[0..2]) */
    DSFN_STEP_LEVEL2,         /* run DSFN2 on window `index` (triples index, index+1) */
    DSFN_STEP_DONE,           /* the segment ended and everything has been run */
};

typedef struct DSFNStep {
    enum DSFNStepType type;
    int64_t index;
    int64_t frame[3]; /* LEVEL1: clamped input frame indices of the triple */
} DSFNStep;

void dsfn_window_reset(DSFNWindow *w);
/* Decide the next pass; call dsfn_window_done() after running it. */
DSFNStep dsfn_window_next(const DSFNWindow *w);
void dsfn_window_done(DSFNWindow *w, const DSFNStep *step);
/* Input frames below this index are no longer needed by any pass. */
int64_t dsfn_window_oldest_needed_frame(const DSFNWindow *w);
/* Level-1 triples below this index are no longer needed by any pass. */
int64_t dsfn_window_oldest_needed_triple(const DSFNWindow *w);

/*
 * Output timestamps, in the output time base (input time base / 2 when
 * in-between frames are made, the input time base otherwise).
 */
#define DSFN_TIMELINE_SIZE 16
#define DSFN_NOPTS INT64_MIN

typedef struct DSFNTimelineEntry {
    int64_t pts;      /* input pts, made strictly increasing */
    int64_t duration; /* input duration, 0 if unknown */
    void *opaque;     /* caller's data travelling with the frame */
} DSFNTimelineEntry;

typedef struct DSFNTimeline {
    DSFNTimelineEntry entry[DSFN_TIMELINE_SIZE];
    int head, count;
    int with_between;        /* 1: keyframes and in-between frames; 0: keyframes only */
    int64_t default_duration; /* input time base units, from the frame rate; >= 1 */
    int64_t last_pts;         /* last pushed pts, DSFN_NOPTS before the first */
    int64_t last_duration;    /* duration of the last pushed frame, or the interval before it */
    int ended;                /* no more input frames will be pushed */
    int64_t eof_pts;          /* end of stream as reported upstream, DSFN_NOPTS if unknown */
    int64_t end_pts;          /* end of the last output frame so far (output time base) */
    int next_is_between;      /* the next output is the in-between frame of the front entry */
} DSFNTimeline;

void dsfn_timeline_init(DSFNTimeline *tl, int with_between, int64_t default_duration);
/*
 * Queue an input frame. A missing pts is extrapolated and a pts that does not
 * increase is moved forward; the return value is 1 when the pts was changed,
 * 0 when taken as is, negative (-ENOSPC) when the timeline is full.
 */
int dsfn_timeline_push(DSFNTimeline *tl, int64_t pts, int64_t duration, void *opaque);
/* No more input: it ended at eof_pts (input time base; DSFN_NOPTS if unknown). */
void dsfn_timeline_set_eof(DSFNTimeline *tl, int64_t eof_pts);
/*
 * Timing of the next output frame. Returns 0 and fills pts/duration/opaque
 * (the front entry's) on success, -EAGAIN when the in-between frame needs the
 * next input's pts, which has not come yet and the end was not reported.
 */
int dsfn_timeline_peek(const DSFNTimeline *tl, int64_t *pts, int64_t *duration, void **opaque);
/* Consume the output described by the last successful peek; returns the
 * opaque pointer of an entry that is no longer needed, or NULL. */
void *dsfn_timeline_advance(DSFNTimeline *tl);
/* Drop the front entry without output (teardown); returns its opaque pointer,
 * NULL when the timeline is empty. */
void *dsfn_timeline_discard(DSFNTimeline *tl);
/* End of the output: the end of the last output frame (output time base). */
int64_t dsfn_timeline_end_pts(const DSFNTimeline *tl);

#ifdef __cplusplus
}
#endif

#endif /* DSFN_WINDOW_H */
