#include "int8/fake_quant_runner.h"

#include <algorithm>
#include <stdexcept>

#include "int8/int8_runner.h"

namespace dsfn {

torch::Tensor fake_quantize_weight(const torch::Tensor &weight)
{
    auto scales = weight.detach().abs().amax({1, 2, 3}).div(127.0).to(torch::kFloat);
    scales = torch::where(scales > 0, scales, torch::ones_like(scales));
    const auto zeros = torch::zeros({weight.size(0)}, torch::kInt);
    return torch::fake_quantize_per_channel_affine(weight, scales, zeros, 0, -128, 127);
}

FakeQuantRunner::FakeQuantRunner(NetworkImpl &net, const ActivationRanges &ranges, const std::string &ranges_path)
    : points_(int8_grids(net, ranges, ranges_path))
{
}

torch::Tensor FakeQuantRunner::round_to(const std::string &point, const torch::Tensor &x) const
{
    auto found = points_.find(point);
    if (found == points_.end())
        throw std::logic_error("int8: no quantization parameters for " + point);
    return torch::fake_quantize_per_tensor_affine(x, found->second.scale, found->second.zero_point, 0, 255);
}

torch::Tensor FakeQuantRunner::input_of(const torch::Tensor &x) const
{
    for (const auto &t : twins_)
        if (t.value.lock().get() == x.unsafeGetTensorImpl())
            return t.rounded;
    return x; // already on an 8-bit grid: an entry point's or a convolution's output
}

torch::Tensor FakeQuantRunner::convolve(torch::nn::Conv2dImpl &conv, const torch::Tensor &x) const
{
    // Plain convolutions that keep their input's size, as Int8Runner checks.
    const auto &w = conv.weight;
    return torch::conv2d(input_of(x), fake_quantize_weight(w), conv.bias, 1, {w.size(2) / 2, w.size(3) / 2});
}

torch::Tensor FakeQuantRunner::enter(const std::string &point, const std::vector<torch::Tensor> &batch)
{
    return round_to(point, torch::cat(batch, 0).to(torch::kFloat));
}

torch::Tensor FakeQuantRunner::leave(const torch::Tensor &x)
{
    return x;
}

torch::Tensor FakeQuantRunner::conv(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    return round_to(point, convolve(conv, x));
}

torch::Tensor FakeQuantRunner::conv_leaky(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    // oneDNN applies LeakyReLU before it rounds, on the grid of the output before it.
    return round_to(point, torch::leaky_relu(convolve(conv, x), kLeakySlope));
}

torch::Tensor FakeQuantRunner::conv_float(const std::string &, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    return convolve(conv, x);
}

torch::Tensor FakeQuantRunner::conv_to_float(torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    return convolve(conv, x);
}

torch::Tensor FakeQuantRunner::leaky(torch::Tensor x)
{
    return torch::leaky_relu(x, kLeakySlope);
}

torch::Tensor FakeQuantRunner::add(const std::string &point, const torch::Tensor &a, const torch::Tensor &b)
{
    auto sum = a + b;
    twins_.erase(std::remove_if(twins_.begin(), twins_.end(), [](const Twin &t) { return t.value.expired(); }),
                 twins_.end());
    twins_.push_back({Twin::Weak(sum.getIntrusivePtr()), round_to(point, sum)});
    return sum;
}

} // namespace dsfn
