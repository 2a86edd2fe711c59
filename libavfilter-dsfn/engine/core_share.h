// The engine's share of the CPU: how many threads its next pass should use.
//
// LibTorch's OpenMP threads spin at every barrier. On an idle machine that is the
// fastest way to wait, but when other work holds a core (a batch job's other
// ffmpeg, a shell loop, a second dsfn), a thread spins while the thread it waits
// for is not running, and all threads together run slower than one would. So
// before each pass the engine asks CoreShare, which measures, over the last
// quarter second or more, how busy the CPUs this process may use were with other
// processes' work, and answers about cpus - others (threads_for_load: a core
// counts as taken when other work holds it most of the time), at least 1 and at
// most max_threads. Threads of this process (ffmpeg's decoder and encoder) count
// as its own work. The pictures do not depend on the thread count (the passes
// split no sums), so this changes speed only. Linux only (/proc); elsewhere, and
// when the user fixed the thread count, it answers max_threads.
#ifndef DSFN_CORE_SHARE_H
#define DSFN_CORE_SHARE_H

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace dsfn {

// Busy and total clock ticks of a set of CPUs, from /proc/stat's per-CPU lines.
struct CpuTicks {
    uint64_t busy = 0;  // user, nice, system, irq, softirq, steal
    uint64_t total = 0; // busy, idle and iowait
};

// Sums the lines of `proc_stat` (the text of /proc/stat) for the CPUs in `cpus`;
// false when a listed CPU has no line.
bool parse_proc_stat(const std::string &proc_stat, const std::vector<int> &cpus, CpuTicks &out);
// utime + stime of a /proc/PID/stat line (all of the process's threads); false
// when it does not parse.
bool parse_task_ticks(const std::string &task_stat, uint64_t &ticks);
// The thread count for the next passes, from `current`, when other work kept
// `others` of `cpus` cores busy.
int threads_for_load(double others, int cpus, int max_threads, int current);

class CoreShare {
public:
    // adapt: false keeps max_threads always (the user set a thread count).
    CoreShare(int max_threads, bool adapt);

    // The count for the next pass; called from the thread that runs the passes.
    int threads();
    // Cores busy with other work in the last window (0 before the first).
    double others() const { return others_; }

private:
    struct Sample {
        std::chrono::steady_clock::time_point when;
        CpuTicks cpus;
        uint64_t ours = 0; // this process's ticks
    };
    bool sample(Sample &s);

    int max_threads_;
    bool adapt_;
    int current_;
    double others_ = 0;
    std::vector<int> cpus_; // the CPUs this process may run on
    bool have_last_ = false;
    Sample last_;
};

} // namespace dsfn

#endif
