/*
 * The DSFN frame window: which pass runs next (include/dsfn/window.h).
 */
#include "dsfn/window.h"

#include <string.h>

static int64_t clamp_index(const DSFNWindow *w, int64_t i)
{
    if (i < 0)
        return 0;
    return i >= w->received ? w->received - 1 : i;
}

void dsfn_window_reset(DSFNWindow *w)
{
    memset(w, 0, sizeof(*w));
}

DSFNStep dsfn_window_next(const DSFNWindow *w)
{
    DSFNStep s = { DSFN_STEP_NEED_INPUT, 0, { 0, 0, 0 } };
    /* With N frames, windows 0..N-1 are made, from triples 0..N. */
    const int64_t n_windows = w->ended ? w->received : INT64_MAX;

    if (w->windows >= n_windows) {
        s.type = DSFN_STEP_DONE;
        return s;
    }
    /* Level 2 first: it yields output and lets memory go. */
    if (w->triples >= w->windows + 2) {
        s.type  = DSFN_STEP_LEVEL2;
        s.index = w->windows;
        return s;
    }
    /* Triple j needs frame j+1, unless the segment ended (it is then clamped). */
    if (w->received > 0 && (w->triples + 1 < w->received || w->ended)) {
        s.type  = DSFN_STEP_LEVEL1;
        s.index = w->triples;
        s.frame[0] = clamp_index(w, s.index - 1);
        s.frame[1] = clamp_index(w, s.index);
        s.frame[2] = clamp_index(w, s.index + 1);
    }
    return s;
}

void dsfn_window_done(DSFNWindow *w, const DSFNStep *step)
{
    if (step->type == DSFN_STEP_LEVEL1)
        w->triples++;
    else if (step->type == DSFN_STEP_LEVEL2)
        w->windows++;
}

int64_t dsfn_window_oldest_needed_frame(const DSFNWindow *w)
{
    /* The next triple is (triples-1, triples, triples+1). */
    return w->triples > 0 ? w->triples - 1 : 0;
}

int64_t dsfn_window_oldest_needed_triple(const DSFNWindow *w)
{
    return w->windows;
}
