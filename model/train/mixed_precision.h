// Mixed precision for training: bf16 autocast on the trainer's device while a
// MixedPrecision guard lives (LibTorch's C++ counterpart of torch.autocast).
// Parameters, optimiser state and the loss stay fp32; bf16 has fp32's range, so
// no loss scaling is needed.
#pragma once

#include <torch/torch.h>

namespace dsfn {

class MixedPrecision {
public:
    // enabled = false: a no-op, so callers need no branch.
    MixedPrecision(torch::DeviceType device, bool enabled);
    ~MixedPrecision();
    MixedPrecision(const MixedPrecision &) = delete;
    MixedPrecision &operator=(const MixedPrecision &) = delete;

private:
    torch::DeviceType device_;
    bool enabled_;
    bool was_enabled_ = false;
    torch::ScalarType old_type_ = torch::kFloat;
};

} // namespace dsfn
