// Where one input frame's time goes inside the filter's engine, operation by
// operation: LibTorch's profiler around steady-state frames sent through the
// engine's C API (what the filter calls), its events summed by name (self time:
// an operation's own, without the operations it calls) and grouped by kind.
#pragma once

#include <ostream>
#include <string>

namespace dsfn {

struct ProfileRequest {
    std::string model;
    int64_t width = 160, height = 90; // input picture
    int precision = 0;                // a DSFNPrecision (auto: the engine's choice)
    int threads = 1;
    int frames = 4; // steady-state frames profiled, after the window has filled
};

// Prints the table; throws std::runtime_error when the engine cannot run.
void print_op_profile(const ProfileRequest &request, std::ostream &out);

} // namespace dsfn
