// dsfn-train: train DSFN on synthetic windows rendered from photos (train_data.h).
//
//   dsfn-train --photos DIR --checkpoint DIR --out WEIGHTS [options]
//
// Resumes from --checkpoint when it exists, else starts from --init WEIGHTS when
// given, else from random weights. Stops after --steps or --minutes, or on
// SIGINT/SIGTERM, always saving the checkpoint and writing WEIGHTS (fp16) and
// WEIGHTS.recipe (how it was made).
#include <algorithm>
#include <csignal>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

#include "int8/activation_ranges.h"
#include "train/train_options.h"
#include "train/training.h"
#include "net/weights_file.h"
#include "recipe/recipe.h"

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int)
{
    stop_requested = 1;
}

using Options = dsfn::TrainRun;

// What trained it, for the recipe's wall time.
std::string hardware(const Options &o)
{
    if (o.train.device.is_cuda())
        return "CUDA GPU" + std::string(o.train.mixed_precision ? ", bf16 mixed precision" : "");
    return std::to_string(o.threads) + "-core CPU";
}

// Fixed-point text, as the recipes have always printed these values.
std::string fixed(double value, int digits)
{
    std::ostringstream text;
    text << std::fixed << std::setprecision(digits) << value;
    return text.str();
}

void write_recipe(const Options &o, const dsfn::Trainer &t, const dsfn::ClipSet &clips)
{
    namespace key = dsfn::recipe_key;
    dsfn::Recipe r;
    r.add_line("# How " + std::filesystem::path(o.out).filename().string() + " was trained (written by dsfn-train)");
    r.add_line("# Read back by dsfn-train --init and scripts/train/next-cycle.sh (one \"key: value\" a line):");
    r.set(key::kStepsDone, std::to_string(t.step));
    if (t.clips_from >= 0)
        r.set(key::kClipsFrom, std::to_string(t.clips_from));
    r.set(key::kSchedule, t.schedule_history);
    r.set(key::kWallTime, fixed(t.seconds / 3600, 2) + " h (" + hardware(o) + ")");
    r.set(key::kFinalLoss, fixed(t.last_loss, 5) +
                               (o.train.loss == dsfn::LossKind::L1 ? " (eq. 12" : " (eq. 12 with squared error") +
                               ", mean over the last " + std::to_string(o.log_every) + " steps)");
    r.set(key::kCommand, dsfn::recipe_command(o));

    std::string clip_names;
    for (const auto &name : clips.names())
        clip_names += (clip_names.empty() ? "" : ", ") + name;
    std::ostringstream people;
    people
        << "# For people:\n"
        << "data: photos from Debian packages (scripts/train/fetch-training-photos.sh), synthetic camera and object\n"
        << "      motion at " << o.train.data.subframes << " sub-frames per input frame, shutter up to "
        << o.train.data.max_shutter << " sub-frames, 4x antialiased bicubic reduction (a = " << std::setprecision(5)
        << o.train.data.bicubic_a << "), noise std " << dsfn::noise_text(o.train.data)
        << (o.train.data.noise_up_to ? " (one level per window)" : "") << ", 8-bit inputs\n";
    if (t.clips_from >= 0)
        people << "      and, from step " << t.clips_from << " on, random flips and windows from real clips\n"
               << "      (scripts/train/fetch-training-clips.sh: " << clip_names
               << "), m = " << o.train.data.clip_subframes << ", " << o.train.data.clip_shutter
               << "-frame blur: " << o.train.data.clip_fraction * 100
               << "% of the windows in the last run (the schedule line gives each run's share)\n"
               << (o.train.data.clip_camera > 0
                       ? "      and a handheld camera path over some of them (the schedule line gives the share)\n"
                       : "");
    people << "width: " << o.train.arch.width << "\nscale: " << o.train.arch.scale
           << "\nlevels: " << o.train.arch.levels << "\nparameters: " << t.net->parameter_count()
           << "\nbatch: " << o.train.batch << "\npatch: " << o.train.data.patch
           << " (low resolution)\nlearning rate: " << o.train.lr << " (Adam, cosine decay to 10% over steps "
           << o.train.schedule_from << "-" << o.train.steps << ")\nseed: " << o.train.seed
           << "\nsamples seen: " << t.step * o.train.batch;
    r.add_line(people.str());
    r.write(dsfn::Recipe::path_for(o.out));
}

// Weights at points of the run, for the quality-vs-training-time curve (make eval-curve):
// DIR/wWIDTH-stepN.dsfn plus a line "step hours loss file" in DIR/snapshots.txt.
void write_snapshot(const Options &o, const dsfn::Trainer &t)
{
    std::filesystem::create_directories(o.snapshots);
    std::ostringstream name;
    name << "w" << o.train.arch.width << "-step" << std::setw(6) << std::setfill('0') << t.step << ".dsfn";
    if (std::filesystem::exists(o.snapshots + "/" + name.str()))
        return;
    dsfn::save_weights(o.snapshots + "/" + name.str(), *t.net, dsfn::Storage::Float16);
    std::ofstream list(o.snapshots + "/snapshots.txt", std::ios::app);
    list << t.step << " " << std::fixed << std::setprecision(4) << t.seconds / 3600 << " " << std::setprecision(5)
         << t.last_loss << " " << name.str() << "\n";
}

// The ranges the weights were trained with are theirs: OUT.int8, tied to OUT.
void write_trained_ranges(const Options &o)
{
    auto ranges = dsfn::parse_activation_ranges(o.train.int8_ranges);
    ranges.weights_digest = dsfn::weights_digest(o.out);
    const auto name = std::filesystem::path(o.out).filename().string();
    std::ostringstream comment;
    comment << "Activation ranges for int8 (precision=int8) of " << name << ": those of\n"
            << o.train.int8_ranges << " (dsfn-tool quantize), held fixed while dsfn-train fine-tuned\n"
            << "the weights with the int8 arithmetic simulated (" << name << ".recipe).";
    dsfn::write_activation_ranges(dsfn::int8_ranges_path(o.out), ranges, comment.str());
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    std::string error;
    if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
        std::cout << dsfn::train_usage();
        return 0;
    }
    if (!dsfn::parse_train_options(argc, argv, o, error)) {
        std::cerr << "dsfn-train: " << error << "\n" << dsfn::train_usage();
        return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    at::set_num_threads(o.threads);
    if (o.train.device.is_cuda() &&
        static_cast<int64_t>(torch::cuda::device_count()) <= std::max<int64_t>(0, o.train.device.index())) {
        std::cerr << "dsfn-train: --device " << o.train.device << ": CUDA is not available"
                  << (torch::cuda::is_available() ? " at that index" : " (no GPU, or a LibTorch without CUDA)") << "\n";
        return 1;
    }

    try {
        dsfn::PhotoSet photos(o.photos);
        const dsfn::ClipSet clips = o.clips.empty() ? dsfn::ClipSet() : dsfn::ClipSet(o.clips);
        dsfn::Trainer trainer(o.train);
        if (std::filesystem::exists(o.checkpoint + "/state.txt")) {
            trainer.load(o.checkpoint);
            std::cout << "resumed " << o.checkpoint << " at step " << trainer.step << "\n";
        } else if (!o.init.empty() && std::filesystem::exists(o.init)) {
            trainer.init_from(o.init);
            std::cout << "starting from the weights in " << o.init << "\n";
        }
        trainer.record_schedule(!clips.empty());
        const double snapshot_seconds = o.snapshot_minutes * 60;
        double next_snapshot = (std::floor(trainer.seconds / snapshot_seconds) + 1) * snapshot_seconds;
        if (!o.snapshots.empty())
            write_snapshot(o, trainer); // where this run starts (step 0: the untrained network)
        std::cout << photos.size() << " photos, " << clips.size() << " clips, width " << o.train.arch.width << ", "
                  << trainer.net->parameter_count() << " parameters" << std::endl;

        using clock = std::chrono::steady_clock;
        const auto run_start = clock::now();
        auto last_save = run_start, interval_start = run_start;
        double loss_sum = 0, data_before = 0;
        int64_t in_interval = 0, run_steps = 0;
        auto minutes_since = [](clock::time_point t) {
            return std::chrono::duration<double>(clock::now() - t).count() / 60;
        };
        while (trainer.step < o.train.steps && !stop_requested && (o.run_steps < 0 || run_steps < o.run_steps) &&
               (o.minutes <= 0 || minutes_since(run_start) < o.minutes)) {
            auto t0 = clock::now();
            auto loss = trainer.train_step(photos, clips);
            trainer.seconds += std::chrono::duration<double>(clock::now() - t0).count();
            loss_sum += loss.total.item<double>();
            in_interval++;
            run_steps++;
            if (in_interval == o.log_every) {
                const double secs = minutes_since(interval_start) * 60;
                const double rate = in_interval * o.train.batch / secs;
                const double data_share = 100 * (trainer.data_seconds - data_before) / secs;
                data_before = trainer.data_seconds;
                trainer.last_loss = loss_sum / in_interval;
                const double eta_h = (o.train.steps - trainer.step) * o.train.batch / rate / 3600;
                std::cout << "step " << trainer.step << " loss " << std::setprecision(5) << trainer.last_loss
                          << " (level1 " << loss.level1 << ", level2 " << loss.level2 << ") lr "
                          << trainer.learning_rate() << " " << std::setprecision(3) << rate << " samples/s (data "
                          << std::setprecision(2) << data_share << "%), ETA " << std::setprecision(3) << eta_h << " h"
                          << std::endl;
                loss_sum = 0;
                in_interval = 0;
                interval_start = clock::now();
            }
            if (!o.snapshots.empty() && trainer.seconds >= next_snapshot) {
                write_snapshot(o, trainer);
                next_snapshot += snapshot_seconds;
            }
            if (minutes_since(last_save) >= o.save_minutes) {
                trainer.save(o.checkpoint);
                last_save = clock::now();
            }
        }
        trainer.save(o.checkpoint);
        if (!o.snapshots.empty())
            write_snapshot(o, trainer); // where this run ends
        dsfn::save_weights(o.out, *trainer.net, dsfn::Storage::Float16);
        write_recipe(o, trainer, clips);
        if (!o.train.int8_ranges.empty())
            write_trained_ranges(o);
        std::cout << "saved " << o.checkpoint << " and " << o.out << " at step " << trainer.step << std::endl;
    } catch (const std::exception &e) {
        std::cerr << "dsfn-train: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
