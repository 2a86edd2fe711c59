// libFuzzer target for the weights loader (model/net/weights_file.cpp).
//
// The loader's contract: any byte string either loads or throws WeightsError;
// never a crash, a hang, another exception or an allocation the file cannot
// justify. Anything else escaping here is a finding.
//
// A checksum over the whole file guards the parser, so raw mutations would
// almost never get past it. The first input byte therefore picks a mode:
// odd: the rest is parsed as is (exercises the outer checks); even: the file
// size field and the checksum are recomputed first, so mutations reach the
// architecture, tensor table and data checks behind them.
#include <cstdint>
#include <cstring>
#include <vector>

#include "net/weights_file.h"

namespace {

constexpr size_t kSizeOffset = 12; // after magic (8) and version (4)
constexpr size_t kMinRepairable = 28;

void put_u64(uint8_t *at, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        at[i] = static_cast<uint8_t>(v >> (8 * i));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    torch::set_num_threads(1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const bool repair = (data[0] & 1) == 0;
    std::vector<uint8_t> file(data + 1, data + size);
    if (repair && file.size() >= kMinRepairable) {
        put_u64(file.data() + kSizeOffset, file.size());
        put_u64(file.data() + file.size() - 8, dsfn::weights_checksum(file.data(), file.size() - 8));
    }
    try {
        dsfn::parse_weights(file.data(), file.size(), "fuzz-input");
    } catch (const dsfn::WeightsError &) {
        // The expected outcome for a bad file.
    }
    return 0;
}
