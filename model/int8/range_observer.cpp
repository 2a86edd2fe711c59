#include "int8/range_observer.h"

namespace dsfn {

void RangeObserver::record(const std::string &point, const torch::Tensor &x)
{
    const auto extremes = torch::aminmax(x.to(torch::kFloat));
    auto &sums = sums_[point];
    sums.lo += std::get<0>(extremes).item<double>();
    sums.hi += std::get<1>(extremes).item<double>();
    sums.passes++;
}

std::map<std::string, ValueRange> RangeObserver::ranges() const
{
    std::map<std::string, ValueRange> out;
    for (const auto &[point, sums] : sums_) {
        const double n = static_cast<double>(sums.passes);
        out.emplace(point, ValueRange{sums.lo / n, sums.hi / n});
    }
    return out;
}

torch::Tensor RangeObserver::enter(const std::string &point, const std::vector<torch::Tensor> &batch)
{
    auto x = torch::cat(batch, 0).to(torch::kFloat);
    record(point, x);
    return x;
}

torch::Tensor RangeObserver::leave(const torch::Tensor &x)
{
    return x;
}

torch::Tensor RangeObserver::conv(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    auto y = conv.forward(x);
    record(point, y);
    return y;
}

torch::Tensor RangeObserver::conv_to_float(torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    return conv.forward(x);
}

torch::Tensor RangeObserver::leaky(torch::Tensor x)
{
    return torch::leaky_relu_(x, kLeakySlope);
}

torch::Tensor RangeObserver::add(const std::string &point, const torch::Tensor &a, const torch::Tensor &b)
{
    auto sum = a + b;
    record(point, sum);
    return sum;
}

} // namespace dsfn
