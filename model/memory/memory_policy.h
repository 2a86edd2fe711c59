// How the process's allocator treats the network's activations, for as long as
// something needs it (an engine, a tool timing the network as the engine runs it).
#pragma once

#include <cstddef>

namespace dsfn {

// Every pass frees and allocates again hundreds of MB of activations. With glibc's
// defaults that memory goes back to the kernel and returns page fault by page fault
// (bench/REPORT.md, "freed memory kept"). While a MemoryPolicy lives, freed
// memory is kept for reuse instead: glibc's heap keeps what it can (mallopt: chunks
// under 32 MB from the heap, no trimming below 1 GiB free), and LibTorch's large CPU
// blocks go through the block cache (block_cache.h).
//
// These are process-wide, so they are shared and counted: the first MemoryPolicy
// sets them up, the last one out puts back what the first changed (LibTorch's CPU
// allocator; glibc's thresholds at glibc's defaults; kept memory given back with
// malloc_trim). glibc's settings are left alone when the user set them
// (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES). Thread-safe.
class MemoryPolicy {
public:
    MemoryPolicy();
    ~MemoryPolicy();
    MemoryPolicy(const MemoryPolicy &) = delete;
    MemoryPolicy &operator=(const MemoryPolicy &) = delete;

    // What this holder's passes and state between passes take: the block cache
    // may keep the sum over all holders (at least its default cap).
    void keep_for_passes(size_t bytes);
    // This holder's pictures changed size, so the blocks kept for it are no use;
    // they are given back when no other holder may want them.
    void forget_blocks();

    static int holders(); // for the tests
private:
    size_t bytes_ = 0;
};

} // namespace dsfn
