// How the process's allocator treats the network's activations (glibc only).
#pragma once

namespace dsfn {

// Every pass frees and allocates again hundreds of MB of activations. With glibc's
// defaults that memory goes back to the kernel and returns page by page (measured
// through ffmpeg on 8 frames at 320x180, dsfn-w32, one thread: 1.0 M page faults
// and 3.7 s of system time against 28 s of user time; with this 0.6 M and 1.1 s).
// Keeps freed memory for reuse instead: glibc's heaps keep what they can, and
// LibTorch's large blocks go through the block cache (block_cache.h).
// Process-wide and idempotent; the engine calls it, and so do tools that time
// the network the way the engine runs it.
void keep_freed_memory();

} // namespace dsfn
