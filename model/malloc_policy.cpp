#include "malloc_policy.h"
#include "block_cache.h"

#include <mutex>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace dsfn {

void keep_freed_memory()
{
#ifdef __GLIBC__
    static std::once_flag once;
    std::call_once(once, [] {
        // Chunks under 32 MB (glibc's ceiling for this threshold) come from the heap,
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        // and the heap is not trimmed below 1 GiB of free space. (M_TOP_PAD, which
        // also kept emptied thread-arena heaps mapped, made RSS grow without bound
        // over long runs: bench/MEMORY.md, 2026-11-25.)
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
    });
#endif
    use_block_cache();
}

} // namespace dsfn
