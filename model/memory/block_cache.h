// LibTorch's CPU allocator, with freed large blocks kept for the next pass.
#pragma once

#include <cstddef>

namespace dsfn {

// Every pass allocates and frees the same large activations again. glibc maps
// blocks over 32 MB afresh each time, and deletes a thread arena's heap as soon
// as it is empty, so those blocks came back page fault by page fault (a fifth of
// the time at 320x180: bench/REPORT.md, 2026-11-30). Blocks of kBlockCacheMin bytes or more are kept instead, by size
// class (sizes within 1/16 of each other share one), up to a cap (kBlockCacheCap bytes, or more where a caller asks for
// more); smaller ones go to the allocator as before. A pass allocates the same sizes as the pass before it, so what is
// kept is mostly reused (what it adds to the peak RSS: bench/MEMORY.md, bench/REPORT.md).
constexpr size_t kBlockCacheMin = size_t(1) << 20;
constexpr size_t kBlockCacheCap = size_t(1) << 30;

// Makes LibTorch allocate CPU tensors through the cache, remembering the
// allocator it replaces; tensors allocated before keep their own deleter.
// Idempotent. Callers hold a MemoryPolicy (memory_policy.h) rather than call this.
void install_block_cache();

// Puts the replaced allocator back (unless another has replaced the cache since)
// and gives every kept block back; blocks still in use are freed, not kept, when
// their tensors go.
void uninstall_block_cache();

// How much the cache may keep: `bytes`, at least kBlockCacheCap. A lower cap
// gives the excess back at once, the largest blocks first.
void set_block_cache_cap(size_t bytes);

struct BlockCacheStats {
    size_t cached_bytes; // freed and kept
    size_t cached_blocks;
    size_t live_bytes;      // handed out and not yet freed (large blocks only)
    size_t peak_live_bytes; // the most live_bytes has been since the last reset_block_cache_peak()
    size_t reused;          // allocations served from the cache since installation
    size_t cap;
    bool installed; // LibTorch allocates through the cache now
};
BlockCacheStats block_cache_stats();

// Starts peak_live_bytes afresh from what is live now (measuring one pass's peak).
void reset_block_cache_peak();

// Gives every kept block back (pictures of another size, say).
void release_block_cache();

} // namespace dsfn
