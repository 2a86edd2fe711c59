#include "engine/device_stream.h"

#include <c10/core/impl/VirtualGuardImpl.h>

#include <dlfcn.h>

#include <cstddef>

namespace dsfn {

DeviceStream::DeviceStream(const torch::Device &device) : device_(device)
{
    if (device_.is_cpu())
        return;
    if (!device_.has_index())
        device_ = torch::Device(device_.type(), 0);
    stream_ = c10::impl::VirtualGuardImpl(device_.type()).getStreamFromGlobalPool(device_);
}

torch::Tensor DeviceStream::host_tensor(at::IntArrayRef sizes, torch::ScalarType type) const
{
    return torch::empty(sizes, torch::TensorOptions().dtype(type).pinned_memory(on_gpu()));
}

void DeviceStream::synchronize() const
{
    if (stream_)
        stream_->synchronize();
}

double DeviceStream::free_bytes() const
{
    if (!device_.is_cuda())
        return -1;
    // The CUDA runtime is loaded with LibTorch's CUDA library: ask it directly,
    // without building against CUDA's headers (cudaMemGetInfo is a C function
    // returning 0 on success).
    using MemGetInfo = int (*)(size_t *, size_t *);
    const auto mem_get_info = reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
    size_t free = 0, total = 0;
    if (!mem_get_info || mem_get_info(&free, &total) != 0)
        return -1;
    return static_cast<double>(free);
}

} // namespace dsfn
