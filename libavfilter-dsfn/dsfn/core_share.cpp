#include "dsfn/core_share.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#ifdef __linux__
#include <link.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
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

#ifdef __linux__
int count_openmp_runtimes(struct dl_phdr_info *info, size_t, void *data)
{
    if (info->dlpi_name && std::strstr(info->dlpi_name, "libgomp"))
        ++*static_cast<int *>(data);
    return 0;
}
#endif

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
        const int n = std::sscanf(line.c_str(), "cpu%*d %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                                  &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
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
    // A core counts as taken when other work kept it busy 85% of the time or
    // more: a CPU-bound process reads 0.96-1.02 cores here, while an encoder in
    // the same ffmpeg (ffv1, 640x360) reads 0.5-0.7 and two spinning threads
    // beside it were still faster than one. A thread comes back only below 60%,
    // so that a load near the line does not switch the count at every window.
    const auto count = [&](double margin) {
        return std::clamp(static_cast<int>(std::floor(cpus - others + margin)), 1, std::max(1, max_threads));
    };
    const int fewer = count(0.85), more = count(0.6);
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

// The thread ids of the OpenMP team that the calling thread's parallel regions
// use (libgomp keeps one pool per calling thread). With a second OpenMP runtime
// in the process (the PyPI torch wheel bundles its own libgomp), the team that
// runs the convolutions is not the one found here: then the whole process counts
// as the engine's own work.
void CoreShare::find_team()
{
    team_.clear();
#ifdef __linux__
    int runtimes = 0;
    dl_iterate_phdr(count_openmp_runtimes, &runtimes);
    if (runtimes != 1)
        return;
    std::vector<int> ids(static_cast<size_t>(max_threads_), 0);
#pragma omp parallel num_threads(max_threads_)
    {
        const int i = omp_get_thread_num();
        if (i < static_cast<int>(ids.size()))
            ids[static_cast<size_t>(i)] = static_cast<int>(syscall(SYS_gettid));
    }
    for (int id : ids)
        if (id > 0)
            team_.push_back(id);
    team_owner_ = static_cast<unsigned long>(pthread_self());
#endif
}

bool CoreShare::sample(Sample &s)
{
    std::string text;
    s.when = std::chrono::steady_clock::now();
    if (!read_file("/proc/stat", text) || !parse_proc_stat(text, cpus_, s.cpus))
        return false;
    s.ours = 0;
    if (team_.empty()) {
        uint64_t ticks = 0;
        if (!read_file("/proc/self/stat", text) || !parse_task_ticks(text, ticks))
            return false;
        s.ours = ticks;
        return true;
    }
    for (int id : team_) {
        uint64_t ticks = 0;
        const std::string path = "/proc/self/task/" + std::to_string(id) + "/stat";
        if (read_file(path.c_str(), text) && parse_task_ticks(text, ticks))
            s.ours += ticks;
    }
    return true;
}

int CoreShare::threads()
{
    if (!adapt_)
        return max_threads_;
#ifdef __linux__
    const unsigned long self = static_cast<unsigned long>(pthread_self());
    if (!have_last_ || self != team_owner_) {
        find_team();
        team_owner_ = self;
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
#else
    return max_threads_;
#endif
}

} // namespace dsfn
