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
