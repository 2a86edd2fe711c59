// DSFN training: the paper's loss (eq. 12, docs/NETWORK.md) and a resumable trainer state.
#pragma once

#include <torch/torch.h>

#include <future>
#include <string>

#include "net/dsfn_net.h"
#include "train/train_data.h"

namespace dsfn {

struct Loss {
    torch::Tensor total; // distance of the five level-1 images / 5 + of the three level-2 images / 3
    double level1 = 0, level2 = 0;
};

// The paper's eq. 12 uses L1; squared error is what PSNR measures, for fine-tuning.
enum class LossKind { L1, SquaredError };

// edge_mirror > 0 trains as the filter's edge_mirror option runs: each input grown
// by that many mirrored pixels a side (mirror_edges.h), the output maps cropped back.
Loss paper_loss(NetworkImpl &net, const Batch &batch, LossKind kind = LossKind::L1, int64_t edge_mirror = 0);

// The same distance to the pictures another network (the teacher) makes of the
// batch instead of the truth: how a network learns to reproduce another's
// pictures under a constraint of its own (int8 arithmetic, --int8-ranges).
Loss distillation_loss(NetworkImpl &net, NetworkImpl &teacher, const Batch &batch, LossKind kind = LossKind::L1,
                       int64_t edge_mirror = 0);

struct TrainConfig {
    Architecture arch;
    DegradeOptions data;
    int64_t batch = 4;
    int64_t steps = 100000;    // step where the learning-rate schedule ends
    int64_t schedule_from = 0; // step where it began: a later start is a warm restart
    double lr = 2e-4;
    uint64_t seed = 1;
    LossKind loss = LossKind::L1;
    int64_t edge_mirror = 0;           // see paper_loss
    torch::Device device{torch::kCPU}; // where the network trains; batches are made on the CPU
    bool mixed_precision = false;      // bf16 autocast (mixed_precision.h)
    // Quantization-aware training: the int8 arithmetic simulated with these
    // activation ranges (a MODEL.int8 file, fake_quant_runner.h); "" trains in float.
    std::string int8_ranges;
    // Weights of the same architecture whose pictures are the targets in place of
    // the truth (distillation_loss); "" learns the truth.
    std::string teacher;
};

// Model, optimiser and progress; save()/load() round-trip all of it, and batches
// depend only on (seed, step), so a resumed run continues exactly.
class Trainer {
public:
    explicit Trainer(const TrainConfig &config);

    double learning_rate() const;
    // Append the configured schedule, batch, patch size, data mix and seed to
    // schedule_history when they differ from the last entry there (a run resumed
    // with another --steps, --lr, --schedule-from, --batch, --patch,
    // --clip-fraction or --seed), or when the optimiser starts afresh from
    // trained weights (init_from): the recipe then tells how every stretch of
    // steps was trained.
    void record_schedule(bool with_clips = false);
    // One optimiser step on the batch for the current step number; returns the loss.
    Loss train_step(const PhotoSet &photos);
    // The same, with some windows from real clips (see make_batch).
    Loss train_step(const PhotoSet &photos, const ClipSet &clips);
    // One optimiser step on a given batch.
    Loss train_on(const Batch &batch);

    void save(const std::string &dir) const;
    void load(const std::string &dir);
    // Start from trained weights (same architecture) with a fresh optimiser, at the
    // step their recipe (WEIGHTS.recipe) records, so the schedule continues.
    void init_from(const std::string &weights_path);

    TrainConfig config;
    Network net{nullptr};
    Network teacher{nullptr}; // with config.teacher
    std::unique_ptr<torch::optim::Adam> optimizer;
    int64_t step = 0;
    double seconds = 0;           // training wall time so far, over all resumed runs
    double last_loss = 0;         // mean loss over the latest log interval
    int64_t clips_from = -1;      // first step that drew windows from real clips; -1: none yet
    std::string schedule_history; // every schedule used so far, for the recipe
    bool fresh_optimizer = false; // set by init_from until record_schedule notes it
    double data_seconds = 0;      // time spent making batches, or waiting for them, in this process (not saved)

private:
    // On a GPU the next step's batch is made on the CPU while this step trains.
    Batch batch_for_step(const PhotoSet &photos, const ClipSet &clips);
    std::future<Batch> next_batch_;
    int64_t next_batch_step_ = -1;
};

} // namespace dsfn
