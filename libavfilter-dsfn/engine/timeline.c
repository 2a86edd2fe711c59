/*
 * Output timestamps of the dsfn filter (include/dsfn/timeline.h).
 */
#include "dsfn/timeline.h"

#include <errno.h>
#include <string.h>

void dsfn_timeline_init(DSFNTimeline *tl, int with_between, int64_t default_duration)
{
    memset(tl, 0, sizeof(*tl));
    tl->with_between     = !!with_between;
    tl->default_duration = default_duration > 0 ? default_duration : 1;
    tl->last_pts         = DSFN_NOPTS;
    tl->eof_pts          = DSFN_NOPTS;
}

int dsfn_timeline_push(DSFNTimeline *tl, int64_t pts, int64_t duration, void *opaque)
{
    DSFNTimelineEntry *e;
    int changed = 0;

    if (tl->count == DSFN_TIMELINE_SIZE)
        return -ENOSPC;
    if (duration < 0)
        duration = 0;

    if (pts == DSFN_NOPTS) {
        pts = tl->last_pts == DSFN_NOPTS ? 0 : tl->last_pts + tl->last_duration;
        changed = 1;
    } else if (tl->last_pts != DSFN_NOPTS && pts <= tl->last_pts) {
        pts = tl->last_pts + 1;
        changed = 1;
    }

    if (tl->last_pts != DSFN_NOPTS)
        tl->last_duration = pts - tl->last_pts;
    if (duration > 0)
        tl->last_duration = duration;
    else if (tl->last_duration <= 0)
        tl->last_duration = tl->default_duration;
    tl->last_pts = pts;

    e = &tl->entry[(tl->head + tl->count) % DSFN_TIMELINE_SIZE];
    e->pts      = pts;
    e->duration = duration;
    e->opaque   = opaque;
    tl->count++;
    return changed;
}

void dsfn_timeline_set_eof(DSFNTimeline *tl, int64_t eof_pts)
{
    tl->ended   = 1;
    tl->eof_pts = eof_pts;
}

/* Interval from the front entry to the next one; for the last entry, its own
 * duration, else the reported end of stream, else the interval before it. */
static int front_interval(const DSFNTimeline *tl, int64_t *interval)
{
    const DSFNTimelineEntry *e = &tl->entry[tl->head];

    if (tl->count > 1) {
        *interval = tl->entry[(tl->head + 1) % DSFN_TIMELINE_SIZE].pts - e->pts;
        return 0;
    }
    if (!tl->ended)
        return -EAGAIN;
    if (e->duration > 0)
        *interval = e->duration;
    else if (tl->eof_pts != DSFN_NOPTS && tl->eof_pts > e->pts)
        *interval = tl->eof_pts - e->pts;
    else
        *interval = tl->last_duration > 0 ? tl->last_duration : tl->default_duration;
    return 0;
}

int dsfn_timeline_peek(const DSFNTimeline *tl, int64_t *pts, int64_t *duration, void **opaque)
{
    const DSFNTimelineEntry *e = &tl->entry[tl->head];
    int64_t interval;
    int ret;

    if (!tl->count)
        return -EAGAIN;
    ret = front_interval(tl, &interval);
    if (ret < 0)
        return ret;

    /* In the halved time base keyframe k sits at 2 p_k and the in-between
     * frame at p_k + p_{k+1}; each lasts half the interval, i.e. `interval` ticks. */
    if (!tl->with_between)
        *pts = e->pts;
    else if (tl->next_is_between)
        *pts = e->pts * 2 + interval;
    else
        *pts = e->pts * 2;
    *duration = interval;
    if (opaque)
        *opaque = e->opaque;
    return 0;
}

void *dsfn_timeline_advance(DSFNTimeline *tl)
{
    int64_t pts, duration;
    void *done;

    if (dsfn_timeline_peek(tl, &pts, &duration, NULL) < 0)
        return NULL;
    tl->end_pts = pts + duration;
    if (tl->with_between && !tl->next_is_between) {
        tl->next_is_between = 1;
        return NULL;
    }
    tl->next_is_between = 0;
    done = tl->entry[tl->head].opaque;
    tl->head = (tl->head + 1) % DSFN_TIMELINE_SIZE;
    tl->count--;
    return done;
}

void *dsfn_timeline_discard(DSFNTimeline *tl)
{
    void *opaque;

    if (!tl->count)
        return NULL;
    opaque = tl->entry[tl->head].opaque;
    tl->head = (tl->head + 1) % DSFN_TIMELINE_SIZE;
    tl->count--;
    tl->next_is_between = 0;
    return opaque;
}

int64_t dsfn_timeline_end_pts(const DSFNTimeline *tl)
{
    /* Nothing was ever output: end where the input ended. */
    if (tl->last_pts == DSFN_NOPTS)
        return tl->eof_pts == DSFN_NOPTS ? 0 : tl->eof_pts * (tl->with_between ? 2 : 1);
    return tl->end_pts;
}
