#include "engine/prepared_network.h"

#include <cerrno>

#include "engine/engine_error.h"
#include "int8/activation_ranges.h"
#include "int8/int8_runner.h"
#include "net/weights_file.h"
#include "onednn/float_runner.h"

namespace dsfn {

const char *precision_name(int precision)
{
    switch (precision) {
    case DSFN_PRECISION_FP32:
        return "fp32";
    case DSFN_PRECISION_BF16:
        return "bf16";
    case DSFN_PRECISION_FP16:
        return "fp16";
    case DSFN_PRECISION_AUTO:
        return "auto";
    case DSFN_PRECISION_INT8:
        return "int8";
    default:
        return "unknown";
    }
}

int precision_from_name(const std::string &name)
{
    for (int p :
         {DSFN_PRECISION_FP32, DSFN_PRECISION_BF16, DSFN_PRECISION_FP16, DSFN_PRECISION_AUTO, DSFN_PRECISION_INT8})
        if (name == precision_name(p))
            return p;
    return -1;
}

Network load_prepared_network(const std::string &path, const torch::Device &device, int precision)
{
    Network net = load_weights(path);
    net->to(device);
    if (precision == DSFN_PRECISION_BF16)
        net->to(torch::kBFloat16);
    else if (precision == DSFN_PRECISION_FP16)
        net->to(torch::kHalf);
    net->eval();
    if (precision == DSFN_PRECISION_INT8) {
        // The int8 backend prepacks its own copy of the weights, the warp's
        // included; the float ones stay for LibTorch's quantized engine, which
        // runs the decoder's last convolution in float.
        const auto ranges_path = int8_ranges_path(path);
        try {
            net->run_convs_with(
                std::make_shared<Int8Runner>(*net, read_activation_ranges(ranges_path, path), ranges_path));
        } catch (const std::runtime_error &e) {
            throw EngineError(EINVAL, e.what());
        }
    } else if ((precision == DSFN_PRECISION_BF16 || precision == DSFN_PRECISION_FP32) && device.is_cpu() &&
               onednn_float_runner_available()) {
        // Float inference on the CPU: LeakyReLU and the residual sums in the
        // convolutions' own passes, the weights reordered once, here.
        net->run_convs_with(std::make_shared<OnednnFloatRunner>(
            *net, precision == DSFN_PRECISION_BF16 ? torch::kBFloat16 : torch::kFloat));
    }
    // Channels-last convolutions run several times faster on CPU (oneDNN).
    torch::NoGradGuard no_grad;
    for (auto &p : net->parameters())
        if (p.dim() == 4)
            p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
    return net;
}

} // namespace dsfn
