// The block cache behind LibTorch's CPU tensors: reuse, size classes, the cap;
// and the MemoryPolicy that installs it, counted over its holders.
#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>

#include <vector>

#include "memory/block_cache.h"
#include "memory/memory_policy.h"
#include "tests.h"

namespace {

// A float tensor of `bytes` bytes, allocated (not filled) through LibTorch.
torch::Tensor block(size_t bytes)
{
    return torch::empty({static_cast<int64_t>(bytes / sizeof(float))}, torch::kFloat);
}

void start_empty()
{
    dsfn::install_block_cache();
    dsfn::release_block_cache();
}

} // namespace

START_TEST(test_freed_block_is_reused)
{
    start_empty();
    const size_t bytes = 12 << 20; // not a power of two: its class spans sizes below it
    void *first = nullptr;
    {
        auto t = block(bytes);
        first = t.data_ptr();
        ck_assert_uint_ge(dsfn::block_cache_stats().live_bytes, bytes);
    }
    const auto kept = dsfn::block_cache_stats();
    ck_assert_uint_ge(kept.cached_bytes, bytes);
    ck_assert_uint_eq(kept.cached_blocks, 1);
    ck_assert_uint_eq(kept.live_bytes, 0);

    // The same size, and one a little smaller (the same size class), get that block.
    for (size_t size : {bytes, bytes - (256 << 10)}) {
        const size_t reused = dsfn::block_cache_stats().reused;
        auto again = block(size);
        ck_assert_ptr_eq(again.data_ptr(), first);
        ck_assert_uint_eq(dsfn::block_cache_stats().reused, reused + 1);
        ck_assert_uint_eq(dsfn::block_cache_stats().cached_bytes, 0);
        again.fill_(1.0f); // the whole block is usable
        ck_assert(again.sum().item<double>() == static_cast<double>(size / sizeof(float)));
    }
    // A size of another class does not.
    auto other = block(2 * bytes);
    ck_assert_ptr_ne(other.data_ptr(), first);
}
END_TEST

START_TEST(test_small_blocks_are_not_kept)
{
    start_empty();
    {
        auto small = block(dsfn::kBlockCacheMin / 2);
        small.fill_(0.0f);
    }
    ck_assert_uint_eq(dsfn::block_cache_stats().cached_bytes, 0);
    ck_assert_uint_eq(dsfn::block_cache_stats().live_bytes, 0);

    // LibTorch's raw allocation interface goes through the same deleter.
    auto *allocator = c10::GetCPUAllocator();
    void *raw_small = allocator->raw_allocate(100);
    void *raw_large = allocator->raw_allocate(dsfn::kBlockCacheMin);
    ck_assert_ptr_nonnull(raw_small);
    ck_assert_ptr_nonnull(raw_large);
    allocator->raw_deallocate(raw_small);
    allocator->raw_deallocate(raw_large);
    ck_assert_uint_eq(dsfn::block_cache_stats().cached_blocks, 1);
}
END_TEST

START_TEST(test_cache_stays_under_cap_and_releases)
{
    start_empty();
    // Never below the default cap.
    dsfn::set_block_cache_cap(dsfn::kBlockCacheCap / 2);
    const size_t cap = dsfn::block_cache_stats().cap;
    ck_assert_uint_ge(cap, dsfn::kBlockCacheCap);
    // Allocated but never written: address space only.
    const size_t bytes = 64 << 20;
    {
        std::vector<torch::Tensor> blocks;
        for (size_t total = 0; total <= cap; total += bytes)
            blocks.push_back(block(bytes));
    }
    const auto kept = dsfn::block_cache_stats();
    ck_assert_uint_le(kept.cached_bytes, cap);
    ck_assert_uint_eq(kept.cached_blocks, cap / bytes);

    dsfn::release_block_cache();
    ck_assert_uint_eq(dsfn::block_cache_stats().cached_bytes, 0);
    ck_assert_uint_eq(dsfn::block_cache_stats().cached_blocks, 0);
}
END_TEST

START_TEST(test_policy_is_counted_and_put_back)
{
    c10::Allocator *const before = c10::GetCPUAllocator();
    ck_assert(!dsfn::block_cache_stats().installed);
    const size_t bytes = 12 << 20;
    torch::Tensor outlives;
    {
        dsfn::MemoryPolicy first;
        ck_assert(dsfn::block_cache_stats().installed);
        ck_assert_ptr_ne(c10::GetCPUAllocator(), before);
        {
            dsfn::MemoryPolicy second; // a second filter instance
            ck_assert_int_eq(dsfn::MemoryPolicy::holders(), 2);
            first.keep_for_passes(3 * dsfn::kBlockCacheCap);
            second.keep_for_passes(2 * dsfn::kBlockCacheCap);
            ck_assert_uint_eq(dsfn::block_cache_stats().cap, 5 * dsfn::kBlockCacheCap);
            {
                auto t = block(bytes);
            }
            // Pictures of another size for one holder: the other may still want the blocks.
            second.forget_blocks();
            ck_assert_uint_eq(dsfn::block_cache_stats().cached_blocks, 1);
        }
        // The second is gone: its share of the cap with it, the first's cache untouched.
        ck_assert_int_eq(dsfn::MemoryPolicy::holders(), 1);
        ck_assert(dsfn::block_cache_stats().installed);
        ck_assert_uint_eq(dsfn::block_cache_stats().cap, 3 * dsfn::kBlockCacheCap);
        ck_assert_uint_eq(dsfn::block_cache_stats().cached_blocks, 1);
        outlives = block(bytes); // the kept block, handed out again
        ck_assert_uint_eq(dsfn::block_cache_stats().cached_blocks, 0);
        first.forget_blocks();
    }
    // The last one out puts LibTorch's allocator back and keeps nothing.
    ck_assert_int_eq(dsfn::MemoryPolicy::holders(), 0);
    ck_assert(!dsfn::block_cache_stats().installed);
    ck_assert_ptr_eq(c10::GetCPUAllocator(), before);
    outlives = torch::Tensor(); // freed, not kept
    ck_assert_uint_eq(dsfn::block_cache_stats().cached_bytes, 0);
    ck_assert_uint_eq(dsfn::block_cache_stats().live_bytes, 0);
    // New tensors come from the allocator there was before.
    auto after = block(bytes);
    ck_assert_uint_eq(dsfn::block_cache_stats().live_bytes, 0);
    // And a later holder sets it all up again.
    {
        dsfn::MemoryPolicy again;
        ck_assert(dsfn::block_cache_stats().installed);
    }
    ck_assert_ptr_eq(c10::GetCPUAllocator(), before);
}
END_TEST

extern "C" Suite *block_cache_suite(void)
{
    Suite *s = suite_create("block_cache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_freed_block_is_reused);
    tcase_add_test(tc, test_small_blocks_are_not_kept);
    tcase_add_test(tc, test_cache_stays_under_cap_and_releases);
    tcase_add_test(tc, test_policy_is_counted_and_put_back);
    suite_add_tcase(s, tc);
    return s;
}
