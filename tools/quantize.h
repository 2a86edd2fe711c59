// `dsfn-tool quantize`: the activation ranges of a model's int8 arithmetic
// (model/int8/), measured with the network's float arithmetic over windows made
// the way training makes them (blurred photo scenes and real clips), and written
// beside the model as MODEL.int8.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace dsfn {

struct QuantizeRequest {
    std::string model;
    std::string photos, clips; // training data folders (scripts/train/fetch-training-*.sh); clips may be ""
    int64_t windows = 64;      // calibration windows, 4 frames each
    int64_t patch = 48;        // their side, in input pixels (4x this fits the training clips)
    uint64_t seed = 1;
    double noise = 0; // Gaussian noise on the inputs (the denoising model's training used 0.01)
    bool force = false;
};

// Writes MODEL.int8 and prints, for windows the ranges did not see, how close
// the int8 outputs come to float32's (PSNR). Throws std::runtime_error.
void write_int8_ranges(const QuantizeRequest &request, std::ostream &out);

} // namespace dsfn
