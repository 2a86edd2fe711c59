// How much memory the engine needs, from the network's own shapes: its width,
// its scale (the maps' r^2 C channels), the type its convolutions run in, and the
// ensemble's copies. The tile plan (tile_plan.h) and the block cache's cap
// (memory_policy.h) both come from here.
#pragma once

#include <cstdint>
#include <string>

#include "net/dsfn_net.h"

namespace dsfn {

// Of what is available, the share the engine plans to use when the caller sets
// no limit: the rest is left to the rest of the process and the system.
constexpr double kBudgetShare = 0.8;

// kBudgetShare of the memory available now (MemAvailable), else of physical memory.
double default_memory_budget();
// kBudgetShare of a device's free bytes; 0 (unknown) when free_bytes is not positive.
double device_memory_budget(double free_bytes);

// A memory size with three significant digits, in the unit that fits it.
std::string readable_size(double bytes);

class MemoryModel {
public:
    // compute_bytes: bytes per element of the convolutions' activations (4 for
    // fp32, 2 for bf16 and fp16); copies: the flip ensemble's (1, 2 or 4).
    MemoryModel(const Architecture &arch, int64_t compute_bytes, int copies);

    // Peak of one pass (level 1 or level 2) over an h x w picture (input pixels,
    // as the pass sees them), beyond the state below.
    double pass_bytes(int64_t h, int64_t w) const { return pass_per_pixel_ * static_cast<double>(h * w); }
    // What the engine keeps between passes for an h x w picture.
    double state_bytes(int64_t h, int64_t w) const { return state_per_pixel_ * static_cast<double>(h * w); }

    double pass_per_pixel() const { return pass_per_pixel_; }
    double state_per_pixel() const { return state_per_pixel_; }

private:
    double pass_per_pixel_ = 0, state_per_pixel_ = 0;
};

} // namespace dsfn
