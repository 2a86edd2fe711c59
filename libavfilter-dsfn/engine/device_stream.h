// Where an engine runs: its device and, on a GPU, a stream of its own from
// LibTorch's pool, made current on whichever thread calls the engine, so that
// two filter instances (or the host program) never queue work behind each
// other's. Device-generic (c10::Stream), so the same code builds against a
// LibTorch with or without CUDA; on the CPU each call is a no-op.
#pragma once

#include <torch/torch.h>

#include <c10/core/StreamGuard.h>

namespace dsfn {

class DeviceStream {
public:
    // A GPU without an index is the first one (cuda means cuda:0).
    explicit DeviceStream(const torch::Device &device);

    const torch::Device &device() const { return device_; }
    bool on_gpu() const { return stream_.has_value(); }

    // The device and its stream are current on the calling thread while the
    // returned guard lives.
    c10::OptionalStreamGuard enter() const { return c10::OptionalStreamGuard(stream_); }

    // A host tensor the device reads from (or writes to) asynchronously: pinned
    // memory on a GPU, plain memory on the CPU.
    torch::Tensor host_tensor(at::IntArrayRef sizes, torch::ScalarType type) const;

    // Waits for the work queued on the stream (no-op on the CPU).
    void synchronize() const;

    // Bytes free on the device as its driver counts them (call inside enter());
    // negative when unknown: the CPU, or a LibTorch without CUDA.
    double free_bytes() const;

private:
    torch::Device device_;
    c10::optional<c10::Stream> stream_;
};

} // namespace dsfn
