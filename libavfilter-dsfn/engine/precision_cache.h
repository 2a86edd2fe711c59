// What precision=auto measured on this machine, kept in a small text file
// outside the repository ($XDG_CACHE_HOME/vf_dsfn/precision-auto, else
// ~/.cache/vf_dsfn/precision-auto), so that a batch of ffmpeg runs measures
// once. A line is "KEY<tab>PRECISION<tab>SPEEDUP"; a line that does not parse
// is ignored (and measured again), never an error.
#pragma once

#include <optional>
#include <string>

namespace dsfn {

struct CachedPrecision {
    std::string precision; // its name: "fp32", "bf16", ...
    double speedup = 1;    // fp32's time over its time
};

class PrecisionCache {
public:
    // The default file; empty when neither XDG_CACHE_HOME nor HOME is set.
    static std::string default_path();
    explicit PrecisionCache(std::string path) : path_(std::move(path)) {}

    const std::string &path() const { return path_; }
    std::optional<CachedPrecision> find(const std::string &key) const;
    // Replaces the key's line, keeping the newest lines of other keys; written
    // to a new file renamed into place, so concurrent runs read whole lines.
    // False when the file cannot be written (a read-only home, say).
    bool store(const std::string &key, const CachedPrecision &value) const;

private:
    std::string path_;
};

// This machine and library, as the cache's keys start: the CPU's model name,
// a hash of its flags (virtual machines often share a generic name), and the
// LibTorch version.
std::string machine_key();

} // namespace dsfn
