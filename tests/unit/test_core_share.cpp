// CoreShare: reading /proc's counters, and the thread count for a measured load.
#include "engine/core_share.h"
#include "tests.h"

#include <csignal>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

static const char *kProcStat = "cpu  500 0 300 9000 10 0 5 0 0 0\n"
                               "cpu0 200 0 100 4500 5 0 2 0 0 0\n"
                               "cpu1 300 0 200 4500 5 0 3 7 0 0\n"
                               "intr 12345 0 0\n";

START_TEST(test_proc_stat_sums_the_allowed_cpus)
{
    dsfn::CpuTicks t;
    ck_assert(dsfn::parse_proc_stat(kProcStat, {0, 1}, t));
    // busy: user + nice + system + irq + softirq + steal; total adds idle and iowait
    ck_assert_uint_eq(t.busy, 200 + 100 + 2 + 300 + 200 + 3 + 7);
    ck_assert_uint_eq(t.total, t.busy + 4500 + 5 + 4500 + 5);
    ck_assert(dsfn::parse_proc_stat(kProcStat, {1}, t));
    ck_assert_uint_eq(t.busy, 300 + 200 + 3 + 7);
    ck_assert_msg(!dsfn::parse_proc_stat(kProcStat, {0, 2}, t), "a CPU without a line was accepted");
    ck_assert(!dsfn::parse_proc_stat("", {0}, t));
}
END_TEST

START_TEST(test_task_ticks)
{
    uint64_t ticks = 0;
    // comm with a space and a parenthesis; utime 17 and stime 4 are fields 14 and 15
    ck_assert(dsfn::parse_task_ticks("4242 (ff mpeg) x) R 1 2 3 4 5 6 7 8 9 10 17 4 0 0 20 0 3 0 100\n", ticks));
    ck_assert_uint_eq(ticks, 21);
    ck_assert(!dsfn::parse_task_ticks("4242 (ffmpeg) R 1 2", ticks));
    ck_assert(!dsfn::parse_task_ticks("garbage", ticks));
}
END_TEST

START_TEST(test_threads_for_load)
{
    // an idle machine, or light work beside: every thread
    ck_assert_int_eq(dsfn::threads_for_load(0.0, 2, 2, 2), 2);
    ck_assert_int_eq(dsfn::threads_for_load(0.5, 2, 2, 2), 2);
    // a CPU-bound process beside two busy threads gets 2/3 of a core or more: one thread
    ck_assert_int_eq(dsfn::threads_for_load(0.66, 2, 2, 2), 1);
    ck_assert_int_eq(dsfn::threads_for_load(1.0, 2, 2, 2), 1);
    // back to two only when the load is clearly gone, not at the line
    ck_assert_int_eq(dsfn::threads_for_load(0.5, 2, 2, 1), 1);
    ck_assert_int_eq(dsfn::threads_for_load(0.3, 2, 2, 1), 2);
    // never fewer than one, never more than asked for
    ck_assert_int_eq(dsfn::threads_for_load(5.0, 2, 2, 2), 1);
    ck_assert_int_eq(dsfn::threads_for_load(0.0, 16, 4, 4), 4);
    ck_assert_int_eq(dsfn::threads_for_load(0.0, 16, 4, 9), 4);
    ck_assert_int_eq(dsfn::threads_for_load(13.2, 16, 8, 8), 3);
    ck_assert_int_eq(dsfn::threads_for_load(-1.0, 2, 2, 2), 2);
}
END_TEST

START_TEST(test_fixed_count_and_busy_machine)
{
    dsfn::CoreShare fixed(2, false);
    ck_assert_int_eq(fixed.threads(), 2);
    // Another process spinning on a core: with one of two cores taken, the share
    // comes down to one thread (with more cores, to all but about one).
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 2)
        return;
    dsfn::CoreShare share(static_cast<int>(cores), true);
    ck_assert_int_eq(share.threads(), static_cast<int>(cores)); // nothing measured yet
    const pid_t busy = fork();
    ck_assert(busy >= 0);
    if (busy == 0)
        for (;;) {
        }
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(800);
    int n = static_cast<int>(cores);
    while (std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        n = share.threads();
    }
    kill(busy, SIGKILL);
    waitpid(busy, nullptr, 0);
    ck_assert_msg(share.others() > 0.5, "a spinning process measured as %.2f cores", share.others());
    ck_assert_int_lt(n, static_cast<int>(cores));
}
END_TEST

extern "C" Suite *core_share_suite(void)
{
    Suite *s = suite_create("core_share");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_proc_stat_sums_the_allowed_cpus);
    tcase_add_test(tc, test_task_ticks);
    tcase_add_test(tc, test_threads_for_load);
    tcase_add_test(tc, test_fixed_count_and_busy_machine);
    suite_add_tcase(s, tc);
    return s;
}
