// Calibration: the network's float arithmetic, recording the values at every
// point the int8 arithmetic quantizes (conv_runner.h), and a range for each.
//
// Two rules. MeanExtremes: the mean over the passes of each pass's lowest and
// highest value, not the extremes of all passes: the rare outlier then saturates
// instead of widening every step of the 256 for all other values. LeastError:
// of candidate ranges (those two, and quantiles of a sample of the values), the
// one whose 8-bit rounding and clipping of the sample errs least (mean squared).
// eval/REPORT.md compares them.
#pragma once

#include "int8/activation_ranges.h"
#include "net/conv_runner.h"

namespace dsfn {

enum class RangeRule { MeanExtremes, LeastError };

class RangeObserver : public ConvRunner {
public:
    // seed: which values of each pass LeastError samples.
    explicit RangeObserver(RangeRule rule = RangeRule::MeanExtremes, uint64_t seed = 1);

    torch::Tensor enter(const std::string &point, const std::vector<torch::Tensor> &batch) override;
    torch::Tensor leave(const torch::Tensor &x) override;
    torch::Tensor conv(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    torch::Tensor conv_to_float(torch::nn::Conv2dImpl &conv, const torch::Tensor &x) override;
    torch::Tensor leaky(torch::Tensor x) override;
    torch::Tensor add(const std::string &point, const torch::Tensor &a, const torch::Tensor &b) override;

    // Every point seen so far, with its range over the passes so far.
    std::map<std::string, ValueRange> ranges() const;

private:
    struct Sums {
        double lo = 0, hi = 0;   // of each pass's extremes
        double min = 0, max = 0; // the extremes of all passes
        int64_t passes = 0;
        std::vector<torch::Tensor> samples; // LeastError's values, a few thousand a pass
    };
    void record(const std::string &point, const torch::Tensor &x);
    ValueRange least_error(const Sums &sums) const;

    RangeRule rule_;
    torch::Generator generator_;
    std::map<std::string, Sums> sums_;
};

} // namespace dsfn
