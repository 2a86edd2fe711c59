// precision=auto: the fastest precision on this machine among those the model's
// recipe lists as evaluated ("precisions: fp32 bf16": scripts/eval/eval-precisions.sh
// writes it when make eval puts a precision within 0.05 dB of fp32 on every clip).
// Fastest is measured, not read from CPU flags: a flag says that an instruction
// exists, not that the convolutions LibTorch picks for it are fast (bf16 on a CPU
// with AVX512-BF16 but no AMX ran at half fp32's speed). The measurement is a few
// level-1 passes of the model itself on 64x64 frames, each precision in turn, on
// the calling thread; on a CPU the result is cached (precision_cache.h).
#pragma once

#include <string>
#include <vector>

#include "engine/device_stream.h"
#include "net/dsfn_net.h"

namespace dsfn {

struct PrecisionChoice {
    int precision = 0;    // a DSFNPrecision: fp32, bf16 or fp16
    std::string reason;   // for the log, e.g. "1.83x fp32 here, measured in 0.41 s"
    Network net{nullptr}; // the model, prepared in that precision
};

// The precisions the recipe beside model_path lists (fp32 always, first), those
// the device cannot run left out (fp16 on a CPU).
std::vector<int> evaluated_precisions(const std::string &model_path, bool on_gpu);

// cache_path: the measurement cache; empty: none (and always measure).
PrecisionChoice choose_precision(const std::string &model_path, const DeviceStream &place,
                                 const std::string &cache_path);

// Seconds of the fastest of `runs` level-1 passes of each network, on the same
// side x side frames; the networks take turns, so that a burst of other work
// on the machine slows each of them alike. Throws what the passes throw.
std::vector<double> time_level1(std::vector<Network> nets, const DeviceStream &place, int64_t side, int runs);

} // namespace dsfn
