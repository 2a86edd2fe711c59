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

const QuantParams &FakeQuantRunner::grid(const std::string &point) const
{
    auto found = points_.find(point);
    if (found == points_.end())
        throw std::logic_error("int8: no quantization parameters for " + point);
    return found->second;
}

torch::Tensor FakeQuantRunner::round_to(const std::string &point, const torch::Tensor &x) const
{
    const auto &q = grid(point);
    return torch::fake_quantize_per_tensor_affine(x, q.scale, q.zero_point, 0, 255);
}

const FakeQuantRunner::Twin *FakeQuantRunner::twin_of(const torch::Tensor &x) const
{
    for (const auto &t : twins_)
        if (t.value.lock().get() == x.unsafeGetTensorImpl())
            return &t;
    return nullptr;
}

torch::Tensor FakeQuantRunner::input_of(const torch::Tensor &x) const
{
    const Twin *twin = twin_of(x);
    return twin ? twin->rounded : x; // else already on an 8-bit grid: an entry point's or a convolution's output
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
    twins_.push_back({Twin::Weak(sum.getIntrusivePtr()), round_to(point, sum), grid(point)});
    return sum;
}

torch::Tensor FakeQuantRunner::warp_three(const std::string &point, DeformConv3x3Impl &warp,
                                          const torch::Tensor &centre, const torch::Tensor &to_first,
                                          const torch::Tensor &to_last)
{
    // As Int8Runner: the warp samples the rounded copy of the centre features (a
    // residual sum), rounds each sample to that copy's grid and multiplies it by
    // 8-bit weights; its output and the float centre enter the decoder's grid.
    const Twin *twin = twin_of(centre);
    if (!twin)
        throw std::logic_error("int8: the warp before " + point + " reads features that are not a residual sum");
    const SampleGrid samples{twin->grid.scale, twin->grid.zero_point};
    const auto weight = fake_quantize_weight(warp.weight);
    auto warped = [&](const torch::Tensor &field) {
        return deform_conv3x3_rounded_samples(twin->rounded, field, weight, warp.bias, samples);
    };
    return round_to(point, torch::cat({warped(to_first), centre, warped(to_last)}, 0));
}

} // namespace dsfn
