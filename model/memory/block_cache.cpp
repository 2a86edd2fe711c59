#include "memory/block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace dsfn {

namespace {

// The size class of a large block: rounded up to 1/16 of its power of two (at
// least 64 KiB), so a pass whose shapes vary a little still finds its blocks.
size_t size_class(size_t n)
{
    size_t pow2 = 1;
    while (pow2 <= n / 2)
        pow2 *= 2;
    const size_t granule = std::max<size_t>(size_t(64) << 10, pow2 / 16);
    return (n + granule - 1) / granule * granule;
}

// LibTorch 2.3 made Allocator::allocate non-const and added copy_data.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define DSFN_ALLOCATOR_2_3 1
#else
#define DSFN_ALLOCATOR_2_3 0
#endif

class BlockCache final : public c10::Allocator {
public:
#if DSFN_ALLOCATOR_2_3
    c10::DataPtr allocate(size_t n) override
    {
        return allocate_block(n);
    }
    void copy_data(void *dest, const void *src, std::size_t count) const override
    {
        std::memcpy(dest, src, count);
    }
#else
    c10::DataPtr allocate(size_t n) const override
    {
        return allocate_block(n);
    }
#endif

    c10::DataPtr allocate_block(size_t n) const
    {
        if (n < kBlockCacheMin) {
            void *ptr = c10::alloc_cpu(n);
            return {ptr, ptr, &c10::free_cpu, c10::Device(c10::DeviceType::CPU)};
        }
        const size_t size = size_class(n);
        void *ptr = take(size);
        if (!ptr) {
            ptr = c10::alloc_cpu(size); // throws when out of memory
            std::lock_guard<std::mutex> lock(mutex_);
            live_.emplace(ptr, size);
            add_live(size);
        }
        return {ptr, ptr, &release, c10::Device(c10::DeviceType::CPU)};
    }

    c10::DeleterFnPtr raw_deleter() const override
    {
        return &release;
    }

    BlockCacheStats stats() const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        size_t blocks = 0;
        for (const auto &entry : free_)
            blocks += entry.second.size();
        return {cached_bytes_, blocks, live_bytes_, peak_live_bytes_, reused_, cap_, installed_};
    }

    void reset_peak()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        peak_live_bytes_ = live_bytes_;
    }

    void set_cap(size_t bytes)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        cap_ = std::max(kBlockCacheCap, bytes);
        trim();
    }

    void release_all()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        free_all();
    }

    void install()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (installed_)
            return;
        replaced_ = c10::GetCPUAllocator();
        c10::SetCPUAllocator(this, kPriority);
        installed_ = true;
    }

    void uninstall()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!installed_)
            return;
        if (c10::GetCPUAllocator() == this)
            c10::SetCPUAllocator(replaced_, kPriority);
        installed_ = false;
        free_all();
    }

    // Never destroyed: tensors (LibTorch's own statics among them) may be freed
    // while the process's static objects are torn down.
    static BlockCache &instance()
    {
        static BlockCache *const cache = new BlockCache();
        return *cache;
    }

private:
    static void release(void *ptr)
    {
        instance().give_back(ptr);
    }

    void *take(size_t size) const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = free_.find(size);
        if (it == free_.end() || it->second.empty())
            return nullptr;
        void *ptr = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= size;
        live_.emplace(ptr, size);
        add_live(size);
        reused_++;
        return ptr;
    }

    void give_back(void *ptr) const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = live_.find(ptr);
        if (it == live_.end()) { // a small block, through raw_deallocate
            c10::free_cpu(ptr);
            return;
        }
        const size_t size = it->second;
        live_.erase(it);
        live_bytes_ -= size;
        if (!installed_) { // nothing will ask for it again
            c10::free_cpu(ptr);
            return;
        }
        free_[size].push_back(ptr);
        cached_bytes_ += size;
        trim();
    }

    // Called with mutex_ held.
    void add_live(size_t size) const
    {
        live_bytes_ += size;
        peak_live_bytes_ = std::max(peak_live_bytes_, live_bytes_);
    }

    // Over the cap: let the largest kept blocks go first. Called with mutex_ held.
    void trim() const
    {
        for (auto big = free_.rbegin(); cached_bytes_ > cap_ && big != free_.rend();) {
            if (big->second.empty()) {
                ++big;
                continue;
            }
            c10::free_cpu(big->second.back());
            big->second.pop_back();
            cached_bytes_ -= big->first;
        }
    }

    void free_all() const
    {
        for (auto &entry : free_)
            for (void *ptr : entry.second)
                c10::free_cpu(ptr);
        free_.clear();
        cached_bytes_ = 0;
    }

    // Above LibTorch's default allocator (0), as SetCPUAllocator requires to replace it.
    static constexpr uint8_t kPriority = 1;

    mutable std::mutex mutex_;
    mutable std::unordered_map<void *, size_t> live_;    // large blocks handed out: their size class
    mutable std::map<size_t, std::vector<void *>> free_; // kept blocks by size class
    mutable size_t cached_bytes_ = 0, live_bytes_ = 0, peak_live_bytes_ = 0, reused_ = 0;
    size_t cap_ = kBlockCacheCap;
    bool installed_ = false;
    c10::Allocator *replaced_ = nullptr;
};

} // namespace

void install_block_cache()
{
    BlockCache::instance().install();
}

void uninstall_block_cache()
{
    BlockCache::instance().uninstall();
}

void set_block_cache_cap(size_t bytes)
{
    BlockCache::instance().set_cap(bytes);
}

BlockCacheStats block_cache_stats()
{
    return BlockCache::instance().stats();
}

void reset_block_cache_peak()
{
    BlockCache::instance().reset_peak();
}

void release_block_cache()
{
    BlockCache::instance().release_all();
}

} // namespace dsfn
