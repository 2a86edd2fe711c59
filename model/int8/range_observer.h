// Calibration: the network's float arithmetic, recording the lowest and highest
// value at every point the int8 arithmetic quantizes (conv_runner.h).
//
// A point's range is the mean over the passes of each pass's extremes, not the
// extremes of all passes: the rare outlier then saturates instead of widening
// every step of the 256 for all other values (int8 comes closer to float32 on
// held-out windows this way: eval/REPORT.md).
#pragma once

#include "int8/activation_ranges.h"
#include "net/conv_runner.h"

namespace dsfn {

class RangeObserver : public ConvRunner {
public:
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
        double lo = 0, hi = 0;
        int64_t passes = 0;
    };
    void record(const std::string &point, const torch::Tensor &x);
    std::map<std::string, Sums> sums_;
};

} // namespace dsfn
