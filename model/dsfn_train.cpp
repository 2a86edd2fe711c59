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

#include "training.h"
#include "weights_file.h"

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

struct Options {
    dsfn::TrainConfig train;
    std::string photos, checkpoint, out, init;
    std::string clips;             // directory of real clips (optional)
    std::string snapshots;         // directory for weights every snapshot_minutes of training
    double snapshot_minutes = 15;
    int64_t run_steps = -1;  // stop after this many steps in this run
    double minutes = 0;      // stop after this much wall time in this run (0: no limit)
    double save_minutes = 10;
    int64_t log_every = 10;
    int threads = 2;
};

int usage()
{
    std::cerr << "usage: dsfn-train --photos DIR --checkpoint DIR --out WEIGHTS [--init WEIGHTS]\n"
                 "                  [--clips DIR] [--clip-fraction 0.25] [--clip-camera 0]\n"
                 "                  [--noise 0.01 | --noise-up-to 0.01] [--bicubic-a -0.5] [--photo-levels 1]\n"
                 "                  [--loss l1|mse] [--edge-mirror 0]\n"
                 "                  [--width 32] [--batch 4] [--patch 32] [--steps 100000] [--lr 2e-4]\n"
                 "                  [--schedule-from STEP]\n"
                 "                  [--seed 1] [--threads 2] [--minutes M] [--run-steps N]\n"
                 "                  [--device cpu|cuda|cuda:N] [--precision fp32|bf16]\n"
                 "                  [--save-minutes 10] [--log-every 10]\n"
                 "                  [--snapshots DIR] [--snapshot-minutes 15]\n";
    return 2;
}

bool parse(int argc, char **argv, Options &o)
{
    for (int i = 1; i < argc; i++) {
        const std::string k = argv[i];
        if (i + 1 >= argc)
            return false;
        const std::string v = argv[++i];
        if (k == "--photos") o.photos = v;
        else if (k == "--checkpoint") o.checkpoint = v;
        else if (k == "--out") o.out = v;
        else if (k == "--init") o.init = v;
        else if (k == "--clips") o.clips = v;
        else if (k == "--clip-fraction") o.train.data.clip_fraction = std::stod(v);
        else if (k == "--clip-camera") o.train.data.clip_camera = std::stod(v);
        else if (k == "--noise") o.train.data.noise_std = std::stod(v);
        else if (k == "--noise-up-to") {
            o.train.data.noise_std = std::stod(v);
            o.train.data.noise_up_to = true;
        }
        else if (k == "--bicubic-a") o.train.data.bicubic_a = std::stod(v);
        else if (k == "--photo-levels") o.train.data.photo_levels = std::stoi(v);
        else if (k == "--loss" && (v == "l1" || v == "mse"))
            o.train.loss = v == "l1" ? dsfn::LossKind::L1 : dsfn::LossKind::SquaredError;
        else if (k == "--edge-mirror") o.train.edge_mirror = std::stoll(v);
        else if (k == "--device") o.train.device = torch::Device(v);
        else if (k == "--precision" && (v == "fp32" || v == "bf16")) o.train.mixed_precision = v == "bf16";
        else if (k == "--width") o.train.arch.width = std::stoll(v);
        else if (k == "--batch") o.train.batch = std::stoll(v);
        else if (k == "--patch") o.train.data.patch = std::stoll(v);
        else if (k == "--steps") o.train.steps = std::stoll(v);
        else if (k == "--lr") o.train.lr = std::stod(v);
        else if (k == "--schedule-from") o.train.schedule_from = std::stoll(v);
        else if (k == "--seed") o.train.seed = std::stoull(v);
        else if (k == "--threads") o.threads = std::stoi(v);
        else if (k == "--minutes") o.minutes = std::stod(v);
        else if (k == "--run-steps") o.run_steps = std::stoll(v);
        else if (k == "--save-minutes") o.save_minutes = std::stod(v);
        else if (k == "--log-every") o.log_every = std::stoll(v);
        else if (k == "--snapshots") o.snapshots = v;
        else if (k == "--snapshot-minutes") o.snapshot_minutes = std::stod(v);
        else return false;
    }
    return !o.photos.empty() && !o.checkpoint.empty() && !o.out.empty() && o.train.arch.width > 0 &&
           o.train.batch > 0 && o.train.data.patch > 0 && o.train.steps > 0 && o.log_every > 0 &&
           o.train.schedule_from >= 0 && o.train.schedule_from < o.train.steps &&
           o.snapshot_minutes > 0 && o.train.data.clip_fraction >= 0 && o.train.data.clip_fraction <= 1 &&
           o.train.data.clip_camera >= 0 && o.train.data.clip_camera <= 1 &&
           o.train.data.noise_std >= 0 && o.train.data.noise_std < 1 && o.train.data.bicubic_a >= -1 &&
           o.train.data.bicubic_a <= 0 && o.train.data.photo_levels >= 1 &&
           o.train.data.photo_levels <= dsfn::PhotoSet::levels && o.train.edge_mirror >= 0 &&
           o.train.edge_mirror <= 64 && (o.train.device.is_cpu() || o.train.device.is_cuda());
}

// What trained it, for the recipe's wall time.
std::string hardware(const Options &o)
{
    if (o.train.device.is_cuda())
        return "CUDA GPU" + std::string(o.train.mixed_precision ? ", bf16 mixed precision" : "");
    return std::to_string(o.threads) + "-core CPU";
}

void write_recipe(const Options &o, const dsfn::Trainer &t, const dsfn::ClipSet &clips)
{
    std::string clip_names;
    for (const auto &name : clips.names())
        clip_names += (clip_names.empty() ? "" : ", ") + name;
    std::ofstream r(o.out + ".recipe");
    r << "# How " << std::filesystem::path(o.out).filename().string() << " was trained (written by dsfn-train)\n"
      << "data: photos from Debian packages (scripts/fetch-training-photos.sh), synthetic camera and object\n"
      << "      motion at " << o.train.data.subframes << " sub-frames per input frame, shutter up to "
      << o.train.data.max_shutter << " sub-frames, 4x antialiased bicubic reduction (a = "
      << o.train.data.bicubic_a << "), noise std " << dsfn::noise_text(o.train.data)
      << (o.train.data.noise_up_to ? " (one level per window)" : "") << ", 8-bit inputs\n";
    if (t.clips_from >= 0)
        r << "      and, from step " << t.clips_from << " on, random flips and windows from real clips\n"
          << "      (scripts/fetch-training-clips.sh: " << clip_names << "), m = " << o.train.data.clip_subframes
          << ", " << o.train.data.clip_shutter << "-frame blur: " << o.train.data.clip_fraction * 100
          << "% of the windows in the last run (the schedule line gives each run's share)\n"
          << (o.train.data.clip_camera > 0 ? "      and a handheld camera path over some of them (the schedule line gives the share)\n" : "")
          << "clips from step: " << t.clips_from << "\n";
    r << "width: " << o.train.arch.width << "\nscale: " << o.train.arch.scale << "\nlevels: " << o.train.arch.levels
      << "\nparameters: " << t.net->parameter_count() << "\nbatch: " << o.train.batch
      << "\npatch: " << o.train.data.patch << " (low resolution)\nlearning rate: " << o.train.lr
      << " (Adam, cosine decay to 10% over steps " << o.train.schedule_from << "-" << o.train.steps
      << ")\nschedule: " << t.schedule_history << "\nseed: " << o.train.seed
      << "\nsteps done: " << t.step << "\nsamples seen: " << t.step * o.train.batch
      << "\nwall time: " << std::fixed << std::setprecision(2) << t.seconds / 3600 << " h (" << hardware(o) << ")"
      << "\nfinal loss: " << std::setprecision(5) << t.last_loss
      << (o.train.loss == dsfn::LossKind::L1 ? " (eq. 12" : " (eq. 12 with squared error") << ", mean over the last "
      << o.log_every << " steps)\ncommand: dsfn-train --width " << o.train.arch.width << " --batch "
      << o.train.batch << " --patch " << o.train.data.patch << " --steps " << o.train.steps << " --lr "
      << std::defaultfloat << o.train.lr << " --seed " << o.train.seed;
    if (o.train.schedule_from > 0)
        r << " --schedule-from " << o.train.schedule_from;
    if (!clips.empty())
        r << " --clips DIR --clip-fraction " << std::defaultfloat << o.train.data.clip_fraction;
    if (!clips.empty() && o.train.data.clip_camera > 0)
        r << " --clip-camera " << std::defaultfloat << o.train.data.clip_camera;
    if (o.train.data.noise_up_to)
        r << " --noise-up-to " << std::defaultfloat << o.train.data.noise_std;
    else if (o.train.data.noise_std != dsfn::DegradeOptions().noise_std)
        r << " --noise " << std::defaultfloat << o.train.data.noise_std;
    if (o.train.data.bicubic_a != dsfn::DegradeOptions().bicubic_a)
        r << " --bicubic-a " << std::defaultfloat << o.train.data.bicubic_a;
    if (o.train.data.photo_levels > 1)
        r << " --photo-levels " << o.train.data.photo_levels;
    if (o.train.loss == dsfn::LossKind::SquaredError)
        r << " --loss mse";
    if (o.train.edge_mirror > 0)
        r << " --edge-mirror " << o.train.edge_mirror;
    if (o.train.mixed_precision)
        r << " --precision bf16";
    r << "\n";
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

} // namespace

int main(int argc, char **argv)
{
    Options o;
    try {
        if (!parse(argc, argv, o))
            return usage();
    } catch (const std::exception &) {
        return usage();
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    at::set_num_threads(o.threads);
    if (o.train.device.is_cuda() && static_cast<int64_t>(torch::cuda::device_count()) <=
                                           std::max<int64_t>(0, o.train.device.index())) {
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
            write_snapshot(o, trainer);  // where this run starts (step 0: the untrained network)
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
        while (trainer.step < o.train.steps && !stop_requested &&
               (o.run_steps < 0 || run_steps < o.run_steps) && (o.minutes <= 0 || minutes_since(run_start) < o.minutes)) {
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
                          << std::setprecision(2) << data_share << "%), ETA " << std::setprecision(3)
                          << eta_h << " h" << std::endl;
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
            write_snapshot(o, trainer);  // where this run ends
        dsfn::save_weights(o.out, *trainer.net, dsfn::Storage::Float16);
        write_recipe(o, trainer, clips);
        std::cout << "saved " << o.checkpoint << " and " << o.out << " at step " << trainer.step << std::endl;
    } catch (const std::exception &e) {
        std::cerr << "dsfn-train: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
