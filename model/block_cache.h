// LibTorch's CPU allocator, with freed large blocks kept for the next pass.
#pragma once

#include <cstddef>

namespace dsfn {

// Every pass allocates and frees the same large activations again. glibc maps
// blocks over 32 MB afresh each time, and deletes a thread arena's heap as soon
// as it is empty, so those blocks came back page fault by page fault (through
// ffmpeg at 320x180 with dsfn-w16: 0.26 M faults in 8 frames, a fifth of the
// time). Blocks of kBlockCacheMin bytes or more are kept instead, by size class
// (sizes within 1/16 of each other share one), up to a cap (kBlockCacheCap
// bytes, or more where a caller asks for more); smaller ones go to the
// allocator as before. A pass allocates the same sizes as the pass before it,
// so what is kept is mostly reused (it added 23% to the peak RSS at 1920x1080,
// 2% at 960x540: bench/MEMORY.md, bench/REPORT.md).
constexpr size_t kBlockCacheMin = size_t(1) << 20;
constexpr size_t kBlockCacheCap = size_t(1) << 30;

// Makes LibTorch allocate CPU tensors through the cache. Process-wide and
// idempotent; tensors allocated before keep their own deleter.
void use_block_cache();

// Lets the cache keep up to `bytes` (if more than its cap so far): the engine
// asks for what one pass over its pictures needs (at 960x540, 2 frames: 22.7 s
// with 1 GiB, 15.6 s with the engine's request; peak RSS 3.04 and 3.09 GiB).
void raise_block_cache_cap(size_t bytes);

struct BlockCacheStats {
    size_t cached_bytes; // freed and kept
    size_t cached_blocks;
    size_t live_bytes; // handed out and not yet freed (large blocks only)
    size_t reused;     // allocations served from the cache since installation
    size_t cap;
};
BlockCacheStats block_cache_stats();

// Gives every kept block back (a filter instance closes, say).
void release_block_cache();

} // namespace dsfn
