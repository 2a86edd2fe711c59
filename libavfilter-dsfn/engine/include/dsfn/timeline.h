/*
 * Output timestamps of the dsfn filter: pure bookkeeping, no images, so it can
 * be tested on its own. Each input frame's pts and duration are queued here and
 * the outputs (keyframes, and in-between frames halfway to the next keyframe)
 * take theirs from them.
 */
#ifndef DSFN_TIMELINE_H
#define DSFN_TIMELINE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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

#endif /* DSFN_TIMELINE_H */
