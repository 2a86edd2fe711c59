// What the direct oneDNN calls share: whether this build makes them, the CPU
// engine, and a bounded cache of the primitives made for each input size.
//
// They are made only in builds against a LibTorch that uses the system's oneDNN
// (Debian's libtorch links libdnnl.so.2; the build then defines DSFN_WITH_ONEDNN
// and links the same library), never as a second copy beside a LibTorch's own.
#pragma once

#include <string>

#ifdef DSFN_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#include <torch/torch.h>

#include <map>
#include <utility>
#endif

namespace dsfn {

// Whether this build calls oneDNN directly.
bool onednn_available();
// "oneDNN 2.6.3" (the library's own version), or "" without it.
std::string onednn_version();

#ifdef DSFN_WITH_ONEDNN

dnnl::engine &onednn_cpu_engine();

// Whether y ([n, channels, h, w] of x's n, h and w) can take the output of a
// convolution of x written over it: channels-last, the layout the primitives
// write.
bool fits_output(const torch::Tensor &y, const torch::Tensor &x, int64_t channels);

// Primitives by the key they were made for. A primitive splits its work for
// the thread count at its making and runs that many threads whatever the count
// later, so the count is part of each key: the engine lowers it when other work
// holds cores (core_share.h). Frame sizes and thread counts change rarely
// (tiles, the last partial tile, a busy machine); the bound keeps a stream of
// them from growing the cache without end. Not thread-safe: its owner locks.
template <class Key, class Prepared>
class PrimitiveCache {
public:
    template <class Make>
    const Prepared &get(const Key &key, Make make)
    {
        auto found = prepared_.find(key);
        if (found != prepared_.end())
            return found->second;
        if (prepared_.size() >= kMaxPrepared)
            prepared_.clear();
        return prepared_.emplace(key, make(key)).first->second;
    }

private:
    static constexpr size_t kMaxPrepared = 16;
    std::map<Key, Prepared> prepared_;
};

#endif

} // namespace dsfn
