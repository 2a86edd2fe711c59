#include "onednn/onednn_engine.h"

namespace dsfn {

#ifdef DSFN_WITH_ONEDNN

bool onednn_available()
{
    return true;
}

std::string onednn_version()
{
    const auto *v = dnnl::version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

dnnl::engine &onednn_cpu_engine()
{
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

bool fits_output(const torch::Tensor &y, const torch::Tensor &x, int64_t channels)
{
    return y.dim() == 4 && x.dim() == 4 && y.size(0) == x.size(0) && y.size(1) == channels && y.size(2) == x.size(2) &&
           y.size(3) == x.size(3) && y.is_contiguous(at::MemoryFormat::ChannelsLast);
}

#else

bool onednn_available()
{
    return false;
}

std::string onednn_version()
{
    return "";
}

#endif

} // namespace dsfn
