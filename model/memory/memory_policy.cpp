#include "memory/memory_policy.h"
#include "memory/block_cache.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace dsfn {

namespace {

std::mutex policy_mutex;
int policy_holders = 0;
size_t policy_bytes = 0; // sum of the holders' keep_for_passes
bool mallopt_changed = false;

#ifdef __GLIBC__
// glibc's defaults for both thresholds (malloc.c: DEFAULT_MMAP_THRESHOLD_MIN,
// DEFAULT_TRIM_THRESHOLD).
constexpr int kGlibcDefaultThreshold = 128 * 1024;

bool user_set_malloc()
{
    const char *tunables = std::getenv("GLIBC_TUNABLES");
    return std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
           (tunables && (std::strstr(tunables, "mmap_threshold") || std::strstr(tunables, "trim_threshold")));
}
#endif

void set_up()
{
#ifdef __GLIBC__
    if (!user_set_malloc()) {
        // Chunks under 32 MB (glibc's ceiling for this threshold) come from the heap,
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        // and the heap is not trimmed below 1 GiB of free space. (M_TOP_PAD, which
        // also kept emptied thread-arena heaps mapped, made RSS grow without bound
        // over long runs: bench/MEMORY.md.)
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
        mallopt_changed = true;
    }
#endif
    install_block_cache();
}

void put_back()
{
    uninstall_block_cache();
#ifdef __GLIBC__
    if (mallopt_changed) {
        // glibc adapts its thresholds until the first mallopt call, and has no way
        // to start adapting again: its starting values are the nearest there is.
        mallopt(M_MMAP_THRESHOLD, kGlibcDefaultThreshold);
        mallopt(M_TRIM_THRESHOLD, kGlibcDefaultThreshold);
        mallopt_changed = false;
    }
    malloc_trim(0);
#endif
}

} // namespace

MemoryPolicy::MemoryPolicy()
{
    std::lock_guard<std::mutex> lock(policy_mutex);
    if (policy_holders++ == 0)
        set_up();
}

MemoryPolicy::~MemoryPolicy()
{
    std::lock_guard<std::mutex> lock(policy_mutex);
    policy_bytes -= bytes_;
    if (--policy_holders == 0)
        put_back();
    else
        set_block_cache_cap(policy_bytes);
}

void MemoryPolicy::keep_for_passes(size_t bytes)
{
    std::lock_guard<std::mutex> lock(policy_mutex);
    policy_bytes = policy_bytes - bytes_ + bytes;
    bytes_ = bytes;
    set_block_cache_cap(policy_bytes);
}

void MemoryPolicy::forget_blocks()
{
    std::lock_guard<std::mutex> lock(policy_mutex);
    if (policy_holders == 1)
        release_block_cache();
}

int MemoryPolicy::holders()
{
    std::lock_guard<std::mutex> lock(policy_mutex);
    return policy_holders;
}

} // namespace dsfn
