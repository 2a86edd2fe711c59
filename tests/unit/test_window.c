/* Window schedule: which DSFN1/DSFN2 passes run, when, on which frames. */
#include <string.h>

#include "tests.h"
#include "dsfn/window.h"

typedef struct Trace {
    int level1, level2;
    int64_t triple_frames[16][3];
    int64_t window_ready_after[16]; /* frames received when window k could run */
} Trace;

/* Feed n frames one at a time, then end the segment; run every pass allowed. */
static void run_segment(int n, Trace *t)
{
    DSFNWindow w;
    DSFNStep s;

    memset(t, 0, sizeof(*t));
    dsfn_window_reset(&w);
    for (int i = 0; i <= n; i++) {
        if (i < n)
            w.received++;
        else
            w.ended = 1;
        while ((s = dsfn_window_next(&w)).type == DSFN_STEP_LEVEL1 || s.type == DSFN_STEP_LEVEL2) {
            if (s.type == DSFN_STEP_LEVEL1) {
                ck_assert_int_eq(s.index, t->level1);
                for (int j = 0; j < 3; j++)
                    t->triple_frames[s.index][j] = s.frame[j];
                t->level1++;
            } else {
                ck_assert_int_eq(s.index, t->level2);
                t->window_ready_after[s.index] = w.ended ? -1 : w.received;
                t->level2++;
            }
            dsfn_window_done(&w, &s);
        }
        ck_assert_int_eq(s.type, i < n ? DSFN_STEP_NEED_INPUT : DSFN_STEP_DONE);
    }
}

START_TEST(test_pass_counts)
{
    /* N frames: windows 0..N-1 from triples 0..N; nothing for N = 0. */
    for (int n = 0; n <= 5; n++) {
        Trace t;
        run_segment(n, &t);
        ck_assert_int_eq(t.level2, n);
        ck_assert_int_eq(t.level1, n ? n + 1 : 0);
    }
}
END_TEST

START_TEST(test_triples_are_clamped)
{
    Trace t;
    const int64_t want[5][3] = { { 0, 0, 1 }, { 0, 1, 2 }, { 1, 2, 3 }, { 2, 3, 3 }, { 3, 3, 3 } };

    run_segment(4, &t);
    for (int j = 0; j < 5; j++)
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(t.triple_frames[j][i], want[j][i]);

    run_segment(1, &t);
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(t.triple_frames[j][i], 0);
}
END_TEST

START_TEST(test_latency)
{
    /* Window k (keyframe k, in-between k+1/2) needs frame k+2 and no later one. */
    Trace t;
    run_segment(6, &t);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(t.window_ready_after[k], k + 3);
    ck_assert_int_eq(t.window_ready_after[4], -1);
    ck_assert_int_eq(t.window_ready_after[5], -1);
}
END_TEST

START_TEST(test_memory_release)
{
    DSFNWindow w;
    DSFNStep s;

    dsfn_window_reset(&w);
    for (int i = 0; i < 10; i++) {
        w.received++;
        while ((s = dsfn_window_next(&w)).type == DSFN_STEP_LEVEL1 || s.type == DSFN_STEP_LEVEL2)
            dsfn_window_done(&w, &s);
        /* At most 3 frames and 2 triples are held at any time. */
        ck_assert_int_le(w.received - dsfn_window_oldest_needed_frame(&w), 3);
        ck_assert_int_le(w.triples - dsfn_window_oldest_needed_triple(&w), 2);
        s = dsfn_window_next(&w);
        if (s.type == DSFN_STEP_LEVEL1)
            ck_assert_int_ge(s.frame[0], dsfn_window_oldest_needed_frame(&w));
    }
}
END_TEST

Suite *window_suite(void)
{
    Suite *s = suite_create("window");
    TCase *tc = tcase_create("schedule");

    tcase_add_test(tc, test_pass_counts);
    tcase_add_test(tc, test_triples_are_clamped);
    tcase_add_test(tc, test_latency);
    tcase_add_test(tc, test_memory_release);
    suite_add_tcase(s, tc);
    return s;
}
