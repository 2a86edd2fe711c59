#include "malloc_policy.h"

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
        // the heap is not trimmed below 1 GiB of free space,
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
        // and a thread arena's 64 MB heaps stay mapped when they empty.
        mallopt(M_TOP_PAD, 64 << 20);
    });
#endif
}

} // namespace dsfn
