#include "int8/range_observer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <limits>

#include "kernels/quantize_u8.h"

namespace dsfn {

namespace {

constexpr int64_t kSamplesPerPass = 16384;

// Tails cut by the candidate ranges, at each end.
constexpr double kTails[] = {0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2};

// Mean squared error of storing the values in 8 bits over [lo, hi], as
// quantize_u8 stores them.
double rounding_error(const torch::Tensor &values, double lo, double hi)
{
    const auto q = quant_params(lo, hi);
    const auto zero = static_cast<double>(q.zero_point);
    auto stored = torch::clamp(torch::round(values / q.scale) + zero, 0, 255);
    return (stored.sub_(zero).mul_(q.scale) - values).pow_(2).mean().item<double>();
}

} // namespace

RangeObserver::RangeObserver(RangeRule rule, uint64_t seed)
    : rule_(rule), generator_(at::detail::createCPUGenerator(seed))
{
}

void RangeObserver::record(const std::string &point, const torch::Tensor &x)
{
    const auto values = x.to(torch::kFloat);
    const auto extremes = torch::aminmax(values);
    const double lo = std::get<0>(extremes).item<double>(), hi = std::get<1>(extremes).item<double>();
    auto &sums = sums_[point];
    sums.min = sums.passes ? std::min(sums.min, lo) : lo;
    sums.max = sums.passes ? std::max(sums.max, hi) : hi;
    sums.lo += lo;
    sums.hi += hi;
    sums.passes++;
    if (rule_ == RangeRule::LeastError) {
        const auto flat = values.reshape({-1});
        auto picked = torch::randint(flat.numel(), {std::min<int64_t>(kSamplesPerPass, flat.numel())}, generator_,
                                     torch::TensorOptions().dtype(torch::kLong));
        sums.samples.push_back(flat.index_select(0, picked));
    }
}

ValueRange RangeObserver::least_error(const Sums &sums) const
{
    const double n = static_cast<double>(sums.passes);
    const auto values = torch::cat(sums.samples);
    const auto sorted = std::get<0>(values.sort());
    const int64_t last = sorted.numel() - 1;
    auto quantile = [&](double p) {
        return sorted[static_cast<int64_t>(p * static_cast<double>(last))].item<double>();
    };
    std::vector<double> los = {sums.lo / n, sums.min}, his = {sums.hi / n, sums.max};
    for (double tail : kTails) {
        los.push_back(quantile(tail));
        his.push_back(quantile(1 - tail));
    }
    ValueRange best{sums.lo / n, sums.hi / n};
    double best_error = std::numeric_limits<double>::infinity();
    for (double lo : los)
        for (double hi : his) {
            if (hi < lo)
                continue;
            const double error = rounding_error(values, lo, hi);
            if (error < best_error)
                best_error = error, best = ValueRange{lo, hi};
        }
    return best;
}

std::map<std::string, ValueRange> RangeObserver::ranges() const
{
    std::map<std::string, ValueRange> out;
    for (const auto &[point, sums] : sums_) {
        const double n = static_cast<double>(sums.passes);
        out.emplace(point, rule_ == RangeRule::LeastError ? least_error(sums) : ValueRange{sums.lo / n, sums.hi / n});
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
