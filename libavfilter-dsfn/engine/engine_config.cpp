#include "engine/engine_config.h"

#include <cerrno>

#include "engine/engine_error.h"
#include "engine/flip_ensemble.h"

namespace dsfn {

void check_config(const DSFNEngineConfig &config)
{
    if (!config.model_path || !*config.model_path)
        throw EngineError(EINVAL, "no model file given");
    if (config.tile < 0 || (config.tile > 0 && config.tile < kMinTile))
        throw EngineError(EINVAL, "tile " + std::to_string(config.tile) + " is too small: 0 (automatic) or at least " +
                                      std::to_string(kMinTile) + " pixels");
    if (config.overlap < 0)
        throw EngineError(EINVAL, "overlap " + std::to_string(config.overlap) + " is negative");
    if (config.ensemble != 0 && !valid_flip_copies(config.ensemble))
        throw EngineError(EINVAL, "ensemble " + std::to_string(config.ensemble) +
                                      ": 1 (off), 2 (and mirrored) or 4 (each also upside down)");
    if (config.edge_mirror < 0 || config.edge_mirror > kMaxEdgeMirror)
        throw EngineError(EINVAL, "edge_mirror " + std::to_string(config.edge_mirror) + ": 0 (off) to " +
                                      std::to_string(kMaxEdgeMirror) + " pixels");
    if (config.precision < DSFN_PRECISION_FP32 || config.precision > DSFN_PRECISION_INT8)
        throw EngineError(EINVAL, "unknown precision " + std::to_string(config.precision));
}

torch::Device parse_device(const std::string &name)
{
    const bool cpu = name == "cpu";
    const bool cuda = name == "cuda" || (name.rfind("cuda:", 0) == 0 && name.size() > 5 &&
                                         name.find_first_not_of("0123456789", 5) == std::string::npos);
    if (!cpu && !cuda)
        throw EngineError(EINVAL, "invalid device '" + name + "': expected cpu, cuda or cuda:N");
    torch::Device device(name);
    if (device.is_cuda()) {
        if (!torch::cuda::is_available())
            throw EngineError(ENODEV, "device '" + name +
                                          "' requested, but CUDA is not available (this LibTorch has no CUDA "
                                          "support or no GPU was found); use device=cpu");
        const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
        if (device.has_index() && device.index() >= count)
            throw EngineError(ENODEV, "device '" + name + "' requested, but only " + std::to_string(count) +
                                          " CUDA device(s) are available");
    }
    return device;
}

} // namespace dsfn
