#include "engine/memory_model.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace dsfn {

namespace {

constexpr double kFloatBytes = 4; // the maps, their sums and the pictures stay fp32

// A level's forward pass (dsfn_net.cpp, LevelImpl::forward) peaks at one of two
// points; what is live there, in channels of an input-sized map:
// - In the shared decoder, on its batch of three: the encoder's features, the
//   centre and the two warped maps (2m each), their concatenation (6m), the
//   decoder's activations on the batch (3 x 3m), and 3m more for oneDNN's own
//   buffers, in the convolutions' type: 26m. Beside them the level-2 input
//   (five maps, and the merged in-between it was built from: 6 r^2 C) and the
//   offset fields (36 channels, in the convolutions' type).
// - At its end: the input (6 r^2 C), the decoded three, their sums, and the
//   copies the decoder's output is converted through (7 r^2 C), with the
//   decoder's last activations (8m).
// Level 1 peaks lower (its input is three pictures): the level-2 figure budgets both.
// The counts beyond the tensors named in the code were set so that the peaks the
// block cache measures fit them (test_memory_model).
constexpr double kDecoderWidths = 26, kDecoderMaps = 6, kOffsetChannels = 36;
constexpr double kEndWidths = 8, kEndMaps = 13;

// Headroom beyond the large blocks counted above, for what the block cache does
// not see: oneDNN's scratchpads, blocks under 1 MiB and the allocators' slack.
// A chosen margin, not a measured ratio; test_memory_model keeps the model between
// one and three times the measured large blocks.
constexpr double kResidentPerLiveByte = 2.0;

// The state between passes, in maps of r^2 C channels: level-1 results of up to
// three triples (9), the keyframe estimate carried to the next window (1), the
// queued outputs of one window (2) and a tiled pass's stitched maps (3); and up
// to four input pictures.
constexpr double kStateMaps = 15, kStatePictures = 4;

} // namespace

MemoryModel::MemoryModel(const Architecture &arch, int64_t compute_bytes, int copies)
{
    const double m = static_cast<double>(arch.width), e = static_cast<double>(compute_bytes);
    const double map = kFloatBytes * static_cast<double>(arch.map_channels());
    const double picture = kFloatBytes * static_cast<double>(arch.colors);
    const double decoder = e * (kDecoderWidths * m + kOffsetChannels) + kDecoderMaps * map;
    const double end = e * kEndWidths * m + kEndMaps * map;
    // An ensemble of copies (flip_ensemble.h) holds besides a flipped copy of the
    // inputs (up to six maps) and up to log2(copies) + 1 partial sums of three maps.
    const double ensemble = copies > 1 ? 6 * map + 3 * map * (1 + std::log2(copies)) : 0.0;
    pass_per_pixel_ = kResidentPerLiveByte * std::max(decoder, end) + ensemble;
    state_per_pixel_ = kStateMaps * map + kStatePictures * picture;
}

double default_memory_budget()
{
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    double kib = 0;
    while (meminfo >> key >> kib)
        if (key == "MemAvailable:")
            return kBudgetShare * kib * 1024;
    return kBudgetShare * static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
}

double device_memory_budget(double free_bytes)
{
    return free_bytes > 0 ? kBudgetShare * free_bytes : 0;
}

std::string readable_size(double bytes)
{
    char s[32];
    if (bytes >= 0.1 * (1 << 30))
        std::snprintf(s, sizeof(s), "%.2f GiB", bytes / (1 << 30));
    else if (bytes >= 0.1 * (1 << 20))
        std::snprintf(s, sizeof(s), "%.1f MiB", bytes / (1 << 20));
    else
        std::snprintf(s, sizeof(s), "%.1f KiB", bytes / 1024);
    return s;
}

} // namespace dsfn
