/*
 * The DSFN frame window: pure bookkeeping, no images, so it can be tested on its
 * own. The engine asks it which level-1 or level-2 pass to run next and which
 * frames and level-1 results it may let go. (The filter's output timestamps are
 * in timeline.h.)
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

#ifdef __cplusplus
}
#endif

#endif /* DSFN_WINDOW_H */
