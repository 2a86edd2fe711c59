// The DSFN weights file: a small versioned binary format that records the
// architecture next to the tensors, so a file is self-describing and every
// way it can be wrong is caught with a message naming the file and the problem.
//
// Layout (little endian):
//   magic "DSFNWGTS" | u32 version | u64 file size
//   | u32 width | u32 scale | u32 levels | u32 colors | u32 tensor count
//   | per tensor: u32 name length, name, u8 storage type, u8 rank, u64 dims[rank], data
//   | u64 FNV-1a hash of every byte before it
#pragma once

#include <stdexcept>
#include <string>

#include "net/dsfn_net.h"

namespace dsfn {

constexpr uint32_t kWeightsFormatVersion = 1;

enum class Storage : uint8_t { Float32 = 0, Float16 = 1 };

class WeightsError : public std::runtime_error {
public:
    // code: the errno value that best describes the problem (ENOENT, EINVAL, ...).
    WeightsError(int code, const std::string &message) : std::runtime_error(message), code_(code) {}
    int code() const { return code_; }

private:
    int code_;
};

// The checksum stored in a file's last 8 bytes, over every byte before them.
uint64_t weights_checksum(const uint8_t *data, size_t size);

void save_weights(const std::string &path, const NetworkImpl &net, Storage storage);

// Reads, validates and builds the network the file describes (float32, CPU).
// Every way a file can be wrong throws WeightsError, and nothing else.
Network load_weights(const std::string &path);

// The same from bytes already in memory; name is used in the messages.
Network parse_weights(const uint8_t *data, size_t size, const std::string &name);

} // namespace dsfn
