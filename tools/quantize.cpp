#include "tools/quantize.h"

#include <sys/stat.h>

#include <cmath>
#include <ctime>
#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "int8/activation_ranges.h"
#include "int8/int8_runner.h"
#include "int8/range_observer.h"
#include "net/weights_file.h"
#include "train/train_data.h"

namespace dsfn {

namespace {

constexpr int64_t kBatch = 4;            // windows per pass
constexpr int64_t kCheckWindows = 16;    // held-out windows for the int8-against-float32 check
constexpr uint64_t kCheckSeed = 1000003; // far from any calibration seed

DegradeOptions calibration_data(const QuantizeRequest &r)
{
    DegradeOptions opt;
    opt.patch = r.patch;
    opt.noise_std = r.noise;
    opt.bicubic_a = -0.6;    // FFmpeg's bicubic, as the shipped models' training
    opt.clip_fraction = 0.5; // both kinds of footage, alike
    return opt;
}

// The level-2 maps of each window (what the pictures are made of).
std::vector<torch::Tensor> level2_maps(NetworkImpl &net, const Batch &batch)
{
    auto first = net.level1(batch.inputs[0], batch.inputs[1], batch.inputs[2]);
    auto second = net.level1(batch.inputs[1], batch.inputs[2], batch.inputs[3]);
    auto refined = net.level2(first, second);
    return {refined[0], refined[1], refined[2]};
}

std::string today()
{
    const std::time_t now = std::time(nullptr);
    char text[16];
    std::strftime(text, sizeof text, "%Y-%m-%d", std::gmtime(&now));
    return text;
}

} // namespace

void write_int8_ranges(const QuantizeRequest &r, std::ostream &out)
{
    const std::string path = int8_ranges_path(r.model);
    struct stat st;
    if (!r.force && stat(path.c_str(), &st) == 0)
        throw std::runtime_error(path + " exists (--force replaces it)");
    if (r.windows < kBatch || r.windows % kBatch)
        throw std::runtime_error("--windows must be a multiple of " + std::to_string(kBatch));

    torch::NoGradGuard no_grad;
    auto net = load_weights(r.model);
    net->eval();
    const PhotoSet photos(r.photos);
    const ClipSet clips = r.clips.empty() ? ClipSet() : ClipSet(r.clips);
    const auto data = calibration_data(r);

    auto observer = std::make_shared<RangeObserver>();
    net->run_convs_with(observer);
    for (int64_t b = 0; b < r.windows / kBatch; b++)
        level2_maps(*net, make_batch(photos, clips, data, kBatch, r.seed + static_cast<uint64_t>(b)));

    ActivationRanges ranges;
    ranges.weights_digest = weights_digest(r.model);
    ranges.points = observer->ranges();
    std::ostringstream comment;
    const auto slash = r.model.find_last_of('/');
    comment << "Activation ranges for int8 (precision=int8) of " << r.model.substr(slash + 1) << ", measured "
            << today() << " by\n"
            << "dsfn-tool quantize MODEL --photos DIR" << (r.clips.empty() ? "" : " --clips DIR") << " --windows "
            << r.windows << " --patch " << r.patch << " --seed " << r.seed << " --noise " << r.noise << "\n"
            << "over " << photos.size() << " photos and " << clips.size()
            << " clips (scripts/train/fetch-training-*.sh), half the windows from each;\n"
            << "for every quantized point of the float32 network, the mean over the passes of its lowest and highest "
               "value.";
    write_activation_ranges(path, ranges, comment.str());
    out << path << ": " << ranges.points.size() << " points from " << r.windows << " windows of " << r.patch << "x"
        << r.patch << "\n";

    // How close int8 comes to float32 on windows the ranges never saw.
    auto check = make_batch(photos, clips, data, kCheckWindows, kCheckSeed);
    net->run_convs_with(nullptr);
    const auto reference = level2_maps(*net, check);
    net->run_convs_with(std::make_shared<Int8Runner>(*net, read_activation_ranges(path, r.model), path));
    const auto quantized = level2_maps(*net, check);
    double squared = 0;
    int64_t count = 0;
    for (size_t i = 0; i < reference.size(); i++) {
        auto a = net->to_image(reference[i]).clamp(0, 1), b = net->to_image(quantized[i]).clamp(0, 1);
        squared += (a - b).pow(2).sum().item<double>();
        count += a.numel();
    }
    const double mse = squared / static_cast<double>(count);
    out << "int8 against float32 on " << kCheckWindows << " other windows: PSNR " << std::fixed << std::setprecision(2)
        << (mse > 0 ? 10 * std::log10(1 / mse) : INFINITY) << " dB\n";
}

} // namespace dsfn
