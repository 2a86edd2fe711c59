/* Output timestamps: 2N frames, exact halves, durations, end of stream. */
#include <errno.h>
#include <string.h>

#include "tests.h"
#include "dsfn/timeline.h"

typedef struct Out {
    int64_t pts[32], dur[32];
    int n;
} Out;

/* Push all frames (durations may be 0 = unknown), end, and drain every output. */
static void run(int with_between, const int64_t *pts, const int64_t *dur, int n, int64_t eof_pts,
                int64_t default_dur, Out *o)
{
    DSFNTimeline tl;
    int64_t p, d;

    memset(o, 0, sizeof(*o));
    dsfn_timeline_init(&tl, with_between, default_dur);
    for (int i = 0; i < n; i++)
        ck_assert_int_ge(dsfn_timeline_push(&tl, pts[i], dur ? dur[i] : 0, NULL), 0);
    dsfn_timeline_set_eof(&tl, eof_pts);
    while (dsfn_timeline_peek(&tl, &p, &d, NULL) == 0) {
        o->pts[o->n] = p;
        o->dur[o->n] = d;
        o->n++;
        dsfn_timeline_advance(&tl);
    }
    ck_assert_int_eq(tl.count, 0);
    /* Contiguous: each frame ends where the next starts, the last at the end pts. */
    for (int i = 0; i + 1 < o->n; i++)
        ck_assert_int_eq(o->pts[i] + o->dur[i], o->pts[i + 1]);
    if (o->n)
        ck_assert_int_eq(dsfn_timeline_end_pts(&tl), o->pts[o->n - 1] + o->dur[o->n - 1]);
}

START_TEST(test_cfr_counts_and_pts)
{
    const int64_t pts[5] = { 0, 1, 2, 3, 4 };
    for (int n = 0; n <= 5; n++) {
        Out o;
        run(1, pts, NULL, n, n, 1, &o);
        ck_assert_int_eq(o.n, 2 * n);
        for (int i = 0; i < o.n; i++) {
            ck_assert_int_eq(o.pts[i], i); /* time base halved: output i at i */
            ck_assert_int_eq(o.dur[i], 1);
        }
    }
}
END_TEST

START_TEST(test_vfr_exact)
{
    /* Irregular input (90 kHz style): keyframe 2 p_k, in-between p_k + p_{k+1}. */
    const int64_t pts[5] = { 1000, 4003, 4004, 9000, 9017 };
    const int64_t dur[5] = { 0, 0, 0, 0, 33 };
    Out o;

    run(1, pts, dur, 5, 9017 + 33, 1, &o);
    ck_assert_int_eq(o.n, 10);
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(o.pts[2 * k], 2 * pts[k]);
        ck_assert_int_eq(o.pts[2 * k + 1], pts[k] + pts[k + 1]);
    }
    ck_assert_int_eq(o.pts[8], 2 * 9017);
    ck_assert_int_eq(o.pts[9], 2 * 9017 + 33);
    ck_assert_int_eq(o.pts[9] + o.dur[9], 2 * (9017 + 33)); /* duration kept */
}
END_TEST

START_TEST(test_last_duration_sources)
{
    const int64_t pts[2] = { 0, 10 };
    const int64_t dur[2] = { 0, 7 };
    Out o;

    run(1, pts, dur, 2, DSFN_NOPTS, 3, &o);          /* the frame's own duration */
    ck_assert_int_eq(o.pts[3] + o.dur[3], 2 * 17);
    run(1, pts, NULL, 2, 15, 3, &o);                 /* else the end of stream */
    ck_assert_int_eq(o.pts[3] + o.dur[3], 2 * 15);
    run(1, pts, NULL, 2, DSFN_NOPTS, 3, &o);         /* else the interval before */
    ck_assert_int_eq(o.pts[3] + o.dur[3], 2 * 20);
    run(1, pts, NULL, 1, DSFN_NOPTS, 3, &o);         /* else the frame rate */
    ck_assert_int_eq(o.n, 2);
    ck_assert_int_eq(o.pts[1], 3);
    ck_assert_int_eq(o.pts[1] + o.dur[1], 6);
}
END_TEST

START_TEST(test_keyframes_mode)
{
    const int64_t pts[3] = { 5, 8, 20 };
    Out o;

    run(0, pts, NULL, 3, 30, 1, &o);
    ck_assert_int_eq(o.n, 3);
    ck_assert_int_eq(o.pts[0], 5);
    ck_assert_int_eq(o.pts[1], 8);
    ck_assert_int_eq(o.pts[2], 20);
    ck_assert_int_eq(o.pts[2] + o.dur[2], 30);
}
END_TEST

START_TEST(test_empty_stream_end)
{
    DSFNTimeline tl;

    dsfn_timeline_init(&tl, 1, 1);
    dsfn_timeline_set_eof(&tl, 40);
    ck_assert_int_eq(dsfn_timeline_end_pts(&tl), 80);
    dsfn_timeline_init(&tl, 0, 1);
    dsfn_timeline_set_eof(&tl, 40);
    ck_assert_int_eq(dsfn_timeline_end_pts(&tl), 40);
}
END_TEST

START_TEST(test_waits_for_next_pts)
{
    DSFNTimeline tl;
    int64_t p, d;

    dsfn_timeline_init(&tl, 1, 1);
    dsfn_timeline_push(&tl, 0, 0, NULL);
    ck_assert_int_eq(dsfn_timeline_peek(&tl, &p, &d, NULL), -EAGAIN);
    dsfn_timeline_push(&tl, 4, 0, NULL);
    ck_assert_int_eq(dsfn_timeline_peek(&tl, &p, &d, NULL), 0);
    ck_assert_int_eq(p, 0);
    ck_assert_int_eq(d, 4);
}
END_TEST

START_TEST(test_bad_timestamps_repaired)
{
    DSFNTimeline tl;

    dsfn_timeline_init(&tl, 1, 2);
    ck_assert_int_eq(dsfn_timeline_push(&tl, DSFN_NOPTS, 0, NULL), 1);
    ck_assert_int_eq(tl.last_pts, 0);
    ck_assert_int_eq(dsfn_timeline_push(&tl, DSFN_NOPTS, 0, NULL), 1);
    ck_assert_int_eq(tl.last_pts, 2);      /* extrapolated by the frame rate */
    ck_assert_int_eq(dsfn_timeline_push(&tl, 10, 0, NULL), 0);
    ck_assert_int_eq(dsfn_timeline_push(&tl, 10, 0, NULL), 1);
    ck_assert_int_eq(tl.last_pts, 11);     /* made strictly increasing */
    ck_assert_int_eq(dsfn_timeline_push(&tl, 3, 0, NULL), 1);
    ck_assert_int_eq(tl.last_pts, 12);
}
END_TEST

START_TEST(test_full_timeline_refuses)
{
    DSFNTimeline tl;

    dsfn_timeline_init(&tl, 1, 1);
    for (int i = 0; i < DSFN_TIMELINE_SIZE; i++)
        ck_assert_int_eq(dsfn_timeline_push(&tl, i, 0, NULL), 0);
    ck_assert_int_eq(dsfn_timeline_push(&tl, 100, 0, NULL), -ENOSPC);
}
END_TEST

Suite *timeline_suite(void)
{
    Suite *s = suite_create("timeline");
    TCase *tc = tcase_create("pts");

    tcase_add_test(tc, test_cfr_counts_and_pts);
    tcase_add_test(tc, test_vfr_exact);
    tcase_add_test(tc, test_last_duration_sources);
    tcase_add_test(tc, test_keyframes_mode);
    tcase_add_test(tc, test_empty_stream_end);
    tcase_add_test(tc, test_waits_for_next_pts);
    tcase_add_test(tc, test_bad_timestamps_repaired);
    tcase_add_test(tc, test_full_timeline_refuses);
    suite_add_tcase(s, tc);
    return s;
}
