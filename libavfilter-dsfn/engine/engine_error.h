// The engine's own errors: a message and the errno value the C API returns
// (negated), so the filter can tell a bad option from a lack of memory.
#pragma once

#include <stdexcept>
#include <string>

namespace dsfn {

struct EngineError : std::runtime_error {
    EngineError(int code, const std::string &msg) : std::runtime_error(msg), code(code) {}
    int code;
};

} // namespace dsfn
