// Preloaded into valgrind runs on CPUs (or VMs) that do not offer RDTSCP.
// LibTorch loads OpenCV, which loads FFmpeg 5's libavcodec, libjxl and libhwy;
// libhwy's load-time initialiser calls TimerResolution(), which uses RDTSCP when
// CPUID says it exists. Valgrind 3.19's emulated CPUID always says so, but it
// cannot decode the instruction on a host without it, so every process died with
// SIGILL before main (seen 2026-11-30 on an AMD EPYC VM without rdtscp).
// This stand-in does not execute RDTSCP; nothing in our runs uses hwy's timers.
#include <cstdint>

namespace hwy {
namespace platform {
uint64_t TimerResolution()
{
    return 1;
}
} // namespace platform
} // namespace hwy
