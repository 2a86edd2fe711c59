#include "train/mixed_precision.h"

#include <ATen/autocast_mode.h>

#include <stdexcept>

namespace dsfn {

namespace {

// LibTorch 2.4 made autocast's state per device type; 1.13 has a function per device.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool enabled(torch::DeviceType d)
{
    return at::autocast::is_autocast_enabled(d);
}
void set_enabled(torch::DeviceType d, bool on)
{
    at::autocast::set_autocast_enabled(d, on);
}
torch::ScalarType lower_type(torch::DeviceType d)
{
    return at::autocast::get_autocast_dtype(d);
}
void set_lower_type(torch::DeviceType d, torch::ScalarType t)
{
    at::autocast::set_autocast_dtype(d, t);
}
#else
bool enabled(torch::DeviceType d)
{
    return d == torch::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
}
void set_enabled(torch::DeviceType d, bool on)
{
    d == torch::kCPU ? at::autocast::set_cpu_enabled(on) : at::autocast::set_enabled(on);
}
torch::ScalarType lower_type(torch::DeviceType d)
{
    return d == torch::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
void set_lower_type(torch::DeviceType d, torch::ScalarType t)
{
    d == torch::kCPU ? at::autocast::set_autocast_cpu_dtype(t) : at::autocast::set_autocast_gpu_dtype(t);
}
#endif

} // namespace

MixedPrecision::MixedPrecision(torch::DeviceType device, bool on) : device_(device), enabled_(on)
{
    if (!enabled_)
        return;
    if (device_ != torch::kCPU && device_ != torch::kCUDA)
        throw std::invalid_argument("mixed precision runs on the CPU or a CUDA GPU only");
    was_enabled_ = enabled(device_);
    old_type_ = lower_type(device_);
    set_lower_type(device_, torch::kBFloat16);
    set_enabled(device_, true);
    at::autocast::increment_nesting();
}

MixedPrecision::~MixedPrecision()
{
    if (!enabled_)
        return;
    // Leaving the outermost region frees the bf16 copies of the weights cast in it.
    if (at::autocast::decrement_nesting() == 0)
        at::autocast::clear_cache();
    set_enabled(device_, was_enabled_);
    set_lower_type(device_, old_type_);
}

} // namespace dsfn
