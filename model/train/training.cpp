#include "train/training.h"
#include "train/train_options.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "int8/fake_quant_runner.h"
#include "net/mirror_edges.h"
#include "train/mixed_precision.h"
#include "net/weights_file.h"
#include "recipe/recipe.h"

namespace dsfn {

namespace {

// The five level-1 and three level-2 pictures a network makes of a batch, cropped
// to the truth's size.
struct Pictures {
    std::array<torch::Tensor, 5> level1;
    std::array<torch::Tensor, 3> level2;
};

Pictures pictures_of(NetworkImpl &net, const Batch &batch, int64_t edge_mirror)
{
    const int64_t border = edge_mirror * net.architecture().scale; // output pixels to crop
    const auto picture = [&](const torch::Tensor &map) {
        const auto image = net.to_image(map);
        return image.slice(2, border, image.size(2) - border).slice(3, border, image.size(3) - border);
    };
    std::array<torch::Tensor, 4> in;
    for (size_t i = 0; i < in.size(); i++)
        in[i] = mirror_edges(batch.inputs[i], edge_mirror);
    auto first = net.level1(in[0], in[1], in[2]);
    auto second = net.level1(in[1], in[2], in[3]);
    auto five = NetworkImpl::merge_level1(first, second);
    auto refined = net.level2(first, second);
    Pictures p;
    for (int i = 0; i < 5; i++)
        p.level1[i] = picture(five[i]);
    for (int i = 0; i < 3; i++)
        p.level2[i] = picture(refined[i]);
    return p;
}

// A weights file that must have the architecture arch (the network trained).
Network load_weights_of(const std::string &path, const Architecture &arch)
{
    auto loaded = load_weights(path);
    if (!(loaded->architecture() == arch))
        throw std::runtime_error(path + ": weights have another architecture (width " +
                                 std::to_string(loaded->architecture().width) + ", training width " +
                                 std::to_string(arch.width) + ")");
    return loaded;
}

// Eq. 12 between the pictures and their targets.
Loss loss_against(const Pictures &p, const std::array<torch::Tensor, 5> &level1,
                  const std::array<torch::Tensor, 3> &level2, LossKind kind)
{
    const auto distance = [kind](const torch::Tensor &image, const torch::Tensor &target) {
        return kind == LossKind::L1 ? torch::l1_loss(image, target) : torch::mse_loss(image, target);
    };
    torch::Tensor l1 = torch::zeros({}, level1[0].options());
    for (int i = 0; i < 5; i++)
        l1 = l1 + distance(p.level1[i], level1[i]);
    torch::Tensor l2 = torch::zeros({}, level2[0].options());
    for (int i = 0; i < 3; i++)
        l2 = l2 + distance(p.level2[i], level2[i]);
    Loss loss;
    loss.total = l1 / 5 + l2 / 3;
    loss.level1 = l1.item<double>() / 5;
    loss.level2 = l2.item<double>() / 3;
    return loss;
}

} // namespace

Loss paper_loss(NetworkImpl &net, const Batch &batch, LossKind kind, int64_t edge_mirror)
{
    const auto &t = batch.truth;
    return loss_against(pictures_of(net, batch, edge_mirror), t, {t[1], t[2], t[3]}, kind);
}

Loss distillation_loss(NetworkImpl &net, NetworkImpl &teacher, const Batch &batch, LossKind kind, int64_t edge_mirror)
{
    Pictures target;
    {
        torch::NoGradGuard no_grad;
        target = pictures_of(teacher, batch, edge_mirror);
    }
    return loss_against(pictures_of(net, batch, edge_mirror), target.level1, target.level2, kind);
}

Trainer::Trainer(const TrainConfig &cfg) : config(cfg), net(cfg.arch)
{
    if (!cfg.int8_ranges.empty() && cfg.mixed_precision)
        throw std::runtime_error("--int8-ranges simulates int8 in float32: it does not train in bf16");
    // The runner finds the network's points with a pass on the CPU: before the move.
    if (!cfg.int8_ranges.empty())
        net->run_convs_with(
            std::make_shared<FakeQuantRunner>(*net, parse_activation_ranges(cfg.int8_ranges), cfg.int8_ranges));
    net->to(cfg.device);
    if (!cfg.teacher.empty()) {
        teacher = load_weights_of(cfg.teacher, cfg.arch);
        teacher->to(cfg.device);
        teacher->eval();
    }
    optimizer = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(cfg.lr));
}

double Trainer::learning_rate() const
{
    // Cosine decay to a tenth of the initial rate from schedule_from to steps.
    const double pi = std::acos(-1.0);
    const double length = static_cast<double>(std::max<int64_t>(1, config.steps - config.schedule_from));
    const double x = std::clamp((step - config.schedule_from) / length, 0.0, 1.0);
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + std::cos(pi * x)));
}

void Trainer::record_schedule(bool with_clips)
{
    const std::string e = schedule_entry(config, with_clips);
    const bool same_as_last = schedule_history.size() >= e.size() &&
                              schedule_history.compare(schedule_history.size() - e.size(), e.size(), e) == 0;
    if (same_as_last && !fresh_optimizer)
        return;
    schedule_history += (schedule_history.empty() ? "" : "; ") + std::string("from step ") + std::to_string(step) +
                        (fresh_optimizer ? " (fresh Adam moments)" : "") + ": " + e;
    fresh_optimizer = false;
}

Loss Trainer::train_step(const PhotoSet &photos)
{
    return train_step(photos, ClipSet());
}

Loss Trainer::train_step(const PhotoSet &photos, const ClipSet &clips)
{
    if (!clips.empty() && clips_from < 0)
        clips_from = step;
    const auto start = std::chrono::steady_clock::now();
    const Batch batch = batch_for_step(photos, clips);
    data_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return train_on(batch);
}

Batch Trainer::batch_for_step(const PhotoSet &photos, const ClipSet &clips)
{
    // Seeded by (seed, step) alone: resuming at a step replays the same data.
    const auto make = [this](const PhotoSet &p, const ClipSet &c, int64_t at_step) {
        const uint64_t seed = config.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(at_step);
        return make_batch(p, c, config.data, config.batch, seed);
    };
    Batch batch = next_batch_step_ == step ? next_batch_.get() : make(photos, clips, step);
    next_batch_step_ = -1;
    if (!config.device.is_cpu()) {
        // The sets by value (their tensors are shared, not copied): the caller's may be
        // temporaries gone before the next batch is made.
        next_batch_ = std::async(std::launch::async,
                                 [make, photos, clips, next = step + 1] { return make(photos, clips, next); });
        next_batch_step_ = step + 1;
    }
    return batch;
}

Loss Trainer::train_on(const Batch &batch)
{
    net->train();
    for (auto &group : optimizer->param_groups())
        static_cast<torch::optim::AdamOptions &>(group.options()).lr(learning_rate());
    optimizer->zero_grad();
    Batch on_device = batch;
    for (auto &t : on_device.inputs)
        t = t.to(config.device);
    for (auto &t : on_device.truth)
        t = t.to(config.device);
    Loss loss;
    {
        // The forward pass in bf16 where autocast allows; backward follows its types.
        MixedPrecision amp(config.device.type(), config.mixed_precision);
        loss = teacher ? distillation_loss(*net, *teacher, on_device, config.loss, config.edge_mirror)
                       : paper_loss(*net, on_device, config.loss, config.edge_mirror);
    }
    loss.total.backward();
    optimizer->step();
    step++;
    return loss;
}

namespace {

void write_state(const std::string &path, const Trainer &t)
{
    std::ofstream out(path);
    out << "step " << t.step << "\nseconds " << t.seconds << "\nloss " << t.last_loss << "\nclips_from " << t.clips_from
        << "\nschedule " << t.schedule_history << "\n";
    if (!out)
        throw std::runtime_error(path + ": cannot write");
}

// Overwrite net's parameters with those of a weights file of the same architecture.
void copy_weights(NetworkImpl &net, const std::string &path, const Architecture &arch)
{
    auto loaded = load_weights_of(path, arch);
    torch::NoGradGuard no_grad;
    auto dst = net.parameters();
    auto src = loaded->parameters();
    for (size_t i = 0; i < dst.size(); i++)
        dst[i].copy_(src[i]);
}

} // namespace

void Trainer::save(const std::string &dir) const
{
    // Write a complete new checkpoint beside the old one, then swap, so an
    // interruption at any moment leaves one whole checkpoint.
    namespace fs = std::filesystem;
    const std::string fresh = dir + ".new", old = dir + ".old";
    fs::remove_all(fresh);
    fs::remove_all(old);
    fs::create_directories(fresh);
    save_weights(fresh + "/model.dsfn", *net, Storage::Float32);
    torch::save(*optimizer, fresh + "/optimizer.pt");
    write_state(fresh + "/state.txt", *this);
    if (fs::exists(dir))
        fs::rename(dir, old);
    fs::rename(fresh, dir);
    fs::remove_all(old);
}

void Trainer::load(const std::string &dir)
{
    copy_weights(*net, dir + "/model.dsfn", config.arch);
    torch::load(*optimizer, dir + "/optimizer.pt");
    std::ifstream in(dir + "/state.txt");
    std::string key;
    while (in >> key) {
        if (key == "step")
            in >> step;
        else if (key == "seconds")
            in >> seconds;
        else if (key == "loss")
            in >> last_loss;
        else if (key == "clips_from")
            in >> clips_from;
        else if (key == "schedule") {
            std::getline(in, schedule_history);
            schedule_history.erase(0, schedule_history.find_first_not_of(' '));
        }
    }
}

void Trainer::init_from(const std::string &weights_path)
{
    copy_weights(*net, weights_path, config.arch);
    // Continue the schedule (and the data sequence) where the recipe says it stopped.
    const Recipe recipe = Recipe::read(Recipe::path_for(weights_path)).value_or(Recipe{});
    if (const auto v = recipe.get(recipe_key::kStepsDone))
        step = std::stoll(*v);
    if (const auto v = recipe.get(recipe_key::kWallTime))
        seconds = std::stod(*v) * 3600; // "1.40 h (2-core CPU)"
    if (const auto v = recipe.get(recipe_key::kFinalLoss))
        last_loss = std::stod(*v);
    if (const auto v = recipe.get(recipe_key::kClipsFrom))
        clips_from = std::stoll(*v);
    if (const auto v = recipe.get(recipe_key::kSchedule))
        schedule_history = *v;
    fresh_optimizer = true;
}

} // namespace dsfn
