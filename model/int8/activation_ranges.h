// The activation ranges of a model's int8 arithmetic, measured by `dsfn-tool
// quantize` over training windows and shipped beside the weights file as
// MODEL.int8 (a text file, like the recipe):
//
//   # comments
//   dsfn-int8 1
//   weights 0123456789abcdef      weights_checksum() of the weights file's bytes
//   dsfn1.input -0 1              point, lowest and highest value seen
//   ...
//
// The digest ties the ranges to the weights they were measured with: ranges of
// other weights would quantize silently wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace dsfn {

struct ValueRange {
    double lo = 0, hi = 0;
};

struct ActivationRanges {
    std::string weights_digest;
    std::map<std::string, ValueRange> points;
};

// Where the ranges of a weights file live: beside it, named MODEL.int8.
std::string int8_ranges_path(const std::string &weights_path);

// weights_checksum() (FNV-1a, weights_file.h) of all of a file's bytes, as 16 hex
// digits. Throws std::runtime_error if unreadable.
std::string weights_digest(const std::string &weights_path);

// Throws std::runtime_error naming the file (and the line) when it is missing,
// not a ranges file, malformed, or measured on other weights than weights_path.
ActivationRanges read_activation_ranges(const std::string &path, const std::string &weights_path);

// The same without the digest check, for weights that are changing (training
// with the ranges, fake_quant_runner.h).
ActivationRanges parse_activation_ranges(const std::string &path);

// Written to a temporary file, then renamed over path. Throws std::runtime_error.
void write_activation_ranges(const std::string &path, const ActivationRanges &ranges, const std::string &comment);

} // namespace dsfn
