#include "engine/core_share.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#ifdef __linux__
#include <sched.h>
#endif

namespace dsfn {

namespace {

// Shorter windows are a few clock ticks (10 ms each) per CPU: too coarse to judge.
constexpr auto kWindow = std::chrono::milliseconds(250);

bool read_file(const char *path, std::string &text)
{
    std::ifstream in(path);
    if (!in)
        return false;
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
    return true;
}

} // namespace

bool parse_proc_stat(const std::string &proc_stat, const std::vector<int> &cpus, CpuTicks &out)
{
    out = CpuTicks();
    std::istringstream lines(proc_stat);
    std::string line;
    size_t found = 0;
    while (std::getline(lines, line)) {
        int cpu = -1;
        if (std::sscanf(line.c_str(), "cpu%d ", &cpu) != 1 || cpu < 0 ||
            std::find(cpus.begin(), cpus.end(), cpu) == cpus.end())
            continue;
        unsigned long long v[8] = {0};
        const int n = std::sscanf(line.c_str(), "cpu%*d %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                                  &v[3], &v[4], &v[5], &v[6], &v[7]);
        if (n < 4)
            return false;
        // user nice system idle iowait irq softirq steal (guest time is in user)
        const uint64_t busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        out.busy += busy;
        out.total += busy + v[3] + v[4];
        found++;
    }
    return found == cpus.size();
}

bool parse_task_ticks(const std::string &task_stat, uint64_t &ticks)
{
    // "pid (comm) state ..." where comm may hold spaces and parentheses: the
    // fields are counted from the last ')'. utime and stime are fields 14 and 15.
    const size_t close = task_stat.rfind(')');
    if (close == std::string::npos)
        return false;
    std::istringstream fields(task_stat.substr(close + 1));
    std::string skip;
    for (int i = 3; i < 14; i++)
        if (!(fields >> skip))
            return false;
    unsigned long long utime = 0, stime = 0;
    if (!(fields >> utime >> stime))
        return false;
    ticks = utime + stime;
    return true;
}

int threads_for_load(double others, int cpus, int max_threads, int current)
{
    if (!(others > 0))
        others = 0;
    // A core counts as taken when other work kept it busy more than 55% of the
    // time: a CPU-bound process beside two busy engine threads gets 2/3 of a core
    // (more when they wait), so the line sits below that. A thread comes back only
    // when other work holds 30% or less, so that a load near the line does not
    // switch the count at every window.
    const auto count = [&](double margin) {
        return std::clamp(static_cast<int>(std::floor(cpus - others + margin)), 1, std::max(1, max_threads));
    };
    const int fewer = count(0.55), more = count(0.3);
    if (fewer < current)
        return fewer;
    if (more > current)
        return more;
    return std::clamp(current, 1, std::max(1, max_threads));
}

CoreShare::CoreShare(int max_threads, bool adapt)
    : max_threads_(std::max(1, max_threads)), adapt_(adapt), current_(max_threads_)
{
#ifdef __linux__
    cpu_set_t set;
    if (adapt_ && sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET(cpu, &set))
                cpus_.push_back(cpu);
    }
#endif
    // One core, or nothing to measure with: nothing to decide.
    if (cpus_.size() < 2 || max_threads_ < 2)
        adapt_ = false;
}

bool CoreShare::sample(Sample &s)
{
    std::string text;
    s.when = std::chrono::steady_clock::now();
    return read_file("/proc/stat", text) && parse_proc_stat(text, cpus_, s.cpus) &&
           read_file("/proc/self/stat", text) && parse_task_ticks(text, s.ours);
}

int CoreShare::threads()
{
    if (!adapt_)
        return max_threads_;
    if (!have_last_) {
        have_last_ = sample(last_);
        if (!have_last_)
            adapt_ = false; // no /proc: keep every thread
        return max_threads_;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_.when < kWindow)
        return current_;
    Sample next;
    if (!sample(next)) {
        adapt_ = false;
        return max_threads_;
    }
    const uint64_t total = next.cpus.total - last_.cpus.total;
    const uint64_t busy = next.cpus.busy - last_.cpus.busy;
    const uint64_t ours = next.ours >= last_.ours ? next.ours - last_.ours : 0;
    if (total > 0) {
        const double per_cpu = static_cast<double>(total) / static_cast<double>(cpus_.size());
        others_ = busy > ours ? static_cast<double>(busy - ours) / per_cpu : 0.0;
        current_ = threads_for_load(others_, static_cast<int>(cpus_.size()), max_threads_, current_);
    }
    last_ = next;
    return current_;
}

} // namespace dsfn
