#include "train/train_options.h"

#include <sstream>
#include <stdexcept>

namespace dsfn {

namespace {

// Formats values as the recipes always have (a stream's default float format).
template <typename... T>
std::string text(const T &...values)
{
    std::ostringstream s;
    (s << ... << values);
    return s.str();
}

// "--flag value", the value as it was typed: a step count stays an integer (as a
// double, 1200000 would print as 1.2e+06).
template <typename T>
std::string flag_value(const char *flag, T value)
{
    return text(flag, " ", value);
}

const DegradeOptions usual_data;

// The table. Its order is the order of a schedule entry's parts (so that the
// histories of earlier runs read the same) and of the recipe's command line.
std::vector<TrainOption> make_table()
{
    using R = TrainRun;
    using C = TrainConfig;
    auto any = [](const R &) { return true; };
    auto none = [](const R &) { return std::string(); };
    // One option a row, as the usage text lists them.
    // clang-format off
    return {
        {"--photos", "DIR", true, [](R &r, const std::string &v) { r.photos = v; }, any, none, {}},
        {"--checkpoint", "DIR", true, [](R &r, const std::string &v) { r.checkpoint = v; }, any, none, {}},
        {"--out", "WEIGHTS", true, [](R &r, const std::string &v) { r.out = v; }, any, none, {}},
        {"--init", "WEIGHTS", false, [](R &r, const std::string &v) { r.init = v; }, any, none, {}},
        {"--clips", "DIR", false, [](R &r, const std::string &v) { r.clips = v; }, any,
         [](const R &r) { return r.clips.empty() ? std::string() : std::string("--clips DIR"); }, {}},
        {"--width", "64", false, [](R &r, const std::string &v) { r.train.arch.width = std::stoll(v); },
         [](const R &r) { return r.train.arch.width > 0; },
         [](const R &r) { return flag_value("--width", r.train.arch.width); }, {}},
        {"--lr", "2e-4", false, [](R &r, const std::string &v) { r.train.lr = std::stod(v); },
         [](const R &r) { return r.train.lr > 0; }, [](const R &r) { return flag_value("--lr", r.train.lr); },
         [](const C &c, bool) { return text("cosine ", c.lr, " to ", c.lr / 10); }},
        {"--schedule-from", "0", false, [](R &r, const std::string &v) { r.train.schedule_from = std::stoll(v); },
         [](const R &r) { return r.train.schedule_from >= 0 && r.train.schedule_from < r.train.steps; },
         [](const R &r) { return r.train.schedule_from > 0 ? flag_value("--schedule-from", r.train.schedule_from) : ""; },
         [](const C &c, bool) { return text(" over steps ", c.schedule_from, "-"); }},
        {"--steps", "100000", false, [](R &r, const std::string &v) { r.train.steps = std::stoll(v); },
         [](const R &r) { return r.train.steps > 0; }, [](const R &r) { return flag_value("--steps", r.train.steps); },
         [](const C &c, bool) { return text(c.steps); }},
        {"--batch", "4", false, [](R &r, const std::string &v) { r.train.batch = std::stoll(v); },
         [](const R &r) { return r.train.batch > 0; }, [](const R &r) { return flag_value("--batch", r.train.batch); },
         [](const C &c, bool) { return text(", batch ", c.batch); }},
        {"--patch", "32", false, [](R &r, const std::string &v) { r.train.data.patch = std::stoll(v); },
         [](const R &r) { return r.train.data.patch > 0; },
         [](const R &r) { return flag_value("--patch", r.train.data.patch); },
         [](const C &c, bool) { return text(" of ", c.data.patch, "x", c.data.patch); }},
        {"--clip-fraction", "0.25", false, [](R &r, const std::string &v) { r.train.data.clip_fraction = std::stod(v); },
         [](const R &r) { return r.train.data.clip_fraction >= 0 && r.train.data.clip_fraction <= 1; },
         [](const R &r) { return r.clips.empty() ? "" : flag_value("--clip-fraction", r.train.data.clip_fraction); },
         [](const C &c, bool clips) { return clips ? text(", ", c.data.clip_fraction * 100, "% clip windows") : ""; }},
        {"--clip-camera", "0", false, [](R &r, const std::string &v) { r.train.data.clip_camera = std::stod(v); },
         [](const R &r) { return r.train.data.clip_camera >= 0 && r.train.data.clip_camera <= 1; },
         [](const R &r) {
             return r.clips.empty() || r.train.data.clip_camera <= 0 ? "" : flag_value("--clip-camera", r.train.data.clip_camera);
         },
         [](const C &c, bool clips) {
             return clips && c.data.clip_camera > 0
                        ? text(" (", c.data.clip_camera * 100, "% of them through a handheld camera)")
                        : "";
         }},
        {"--seed", "1", false, [](R &r, const std::string &v) { r.train.seed = std::stoull(v); }, any,
         [](const R &r) { return text("--seed ", r.train.seed); },
         [](const C &c, bool) { return text(", seed ", c.seed); }},
        {"--noise", "0.01", false, [](R &r, const std::string &v) { r.train.data.noise_std = std::stod(v); },
         [](const R &r) { return r.train.data.noise_std >= 0 && r.train.data.noise_std < 1; },
         [](const R &r) {
             return r.train.data.noise_up_to || r.train.data.noise_std == usual_data.noise_std
                        ? ""
                        : flag_value("--noise", r.train.data.noise_std);
         },
         [](const C &c, bool) {
             return c.data.noise_std != usual_data.noise_std || c.data.noise_up_to
                        ? ", noise std " + noise_text(c.data)
                        : "";
         }},
        {"--noise-up-to", "STD", false,
         [](R &r, const std::string &v) {
             r.train.data.noise_std = std::stod(v);
             r.train.data.noise_up_to = true;
         },
         any, [](const R &r) { return r.train.data.noise_up_to ? flag_value("--noise-up-to", r.train.data.noise_std) : ""; },
         {}},
        {"--bicubic-a", "-0.5", false, [](R &r, const std::string &v) { r.train.data.bicubic_a = std::stod(v); },
         [](const R &r) { return r.train.data.bicubic_a >= -1 && r.train.data.bicubic_a <= 0; },
         [](const R &r) {
             return r.train.data.bicubic_a == usual_data.bicubic_a ? "" : flag_value("--bicubic-a", r.train.data.bicubic_a);
         },
         [](const C &c, bool) {
             return c.data.bicubic_a != usual_data.bicubic_a ? text(", bicubic a = ", c.data.bicubic_a) : "";
         }},
        {"--photo-levels", "1", false, [](R &r, const std::string &v) { r.train.data.photo_levels = std::stoi(v); },
         [](const R &r) { return r.train.data.photo_levels >= 1 && r.train.data.photo_levels <= PhotoSet::levels; },
         [](const R &r) { return r.train.data.photo_levels > 1 ? flag_value("--photo-levels", r.train.data.photo_levels) : ""; },
         [](const C &c, bool) {
             return c.data.photo_levels > 1 ? text(", photos also reduced up to ", 1 << (c.data.photo_levels - 1), "x")
                                            : "";
         }},
        {"--loss", "l1|mse", false,
         [](R &r, const std::string &v) {
             if (v != "l1" && v != "mse")
                 throw std::invalid_argument("l1 or mse");
             r.train.loss = v == "l1" ? LossKind::L1 : LossKind::SquaredError;
         },
         any, [](const R &r) { return r.train.loss == LossKind::SquaredError ? std::string("--loss mse") : ""; },
         [](const C &c, bool) { return c.loss == LossKind::SquaredError ? std::string(", squared-error loss") : ""; }},
        {"--edge-mirror", "0", false, [](R &r, const std::string &v) { r.train.edge_mirror = std::stoll(v); },
         [](const R &r) { return r.train.edge_mirror >= 0 && r.train.edge_mirror <= 64; },
         [](const R &r) { return r.train.edge_mirror > 0 ? flag_value("--edge-mirror", r.train.edge_mirror) : ""; },
         [](const C &c, bool) {
             return c.edge_mirror > 0 ? text(", inputs grown by ", c.edge_mirror, " mirrored pixels a side") : "";
         }},
        {"--precision", "fp32|bf16", false,
         [](R &r, const std::string &v) {
             if (v != "fp32" && v != "bf16")
                 throw std::invalid_argument("fp32 or bf16");
             r.train.mixed_precision = v == "bf16";
         },
         any, [](const R &r) { return r.train.mixed_precision ? std::string("--precision bf16") : ""; },
         [](const C &c, bool) { return c.mixed_precision ? std::string(", bf16 mixed precision") : ""; }},
        {"--int8-ranges", "FILE", false, [](R &r, const std::string &v) { r.train.int8_ranges = v; },
         any, [](const R &r) { return r.train.int8_ranges.empty() ? std::string() : std::string("--int8-ranges FILE"); },
         [](const C &c, bool) { return c.int8_ranges.empty() ? std::string() : std::string(", int8 simulated"); }},
        {"--teacher", "WEIGHTS", false, [](R &r, const std::string &v) { r.train.teacher = v; }, any,
         [](const R &r) { return r.train.teacher.empty() ? std::string() : std::string("--teacher WEIGHTS"); },
         [](const C &c, bool) { return c.teacher.empty() ? std::string() : std::string(", the teacher's pictures as targets"); }},
        {"--device", "cpu|cuda|cuda:N", false, [](R &r, const std::string &v) { r.train.device = torch::Device(v); },
         [](const R &r) { return r.train.device.is_cpu() || r.train.device.is_cuda(); }, none, {}},
        {"--threads", "2", false, [](R &r, const std::string &v) { r.threads = std::stoi(v); },
         [](const R &r) { return r.threads > 0; }, none, {}},
        {"--minutes", "M", false, [](R &r, const std::string &v) { r.minutes = std::stod(v); }, any, none, {}},
        {"--run-steps", "N", false, [](R &r, const std::string &v) { r.run_steps = std::stoll(v); }, any, none, {}},
        {"--save-minutes", "10", false, [](R &r, const std::string &v) { r.save_minutes = std::stod(v); }, any, none, {}},
        {"--log-every", "10", false, [](R &r, const std::string &v) { r.log_every = std::stoll(v); },
         [](const R &r) { return r.log_every > 0; }, none, {}},
        {"--snapshots", "DIR", false, [](R &r, const std::string &v) { r.snapshots = v; }, any, none, {}},
        {"--snapshot-minutes", "15", false, [](R &r, const std::string &v) { r.snapshot_minutes = std::stod(v); },
         [](const R &r) { return r.snapshot_minutes > 0; }, none, {}},
    };
    // clang-format on
}

} // namespace

const std::vector<TrainOption> &train_options()
{
    static const std::vector<TrainOption> table = make_table();
    return table;
}

bool parse_train_options(int argc, char **argv, TrainRun &run, std::string &error)
{
    const auto &table = train_options();
    std::vector<bool> given(table.size(), false);
    for (int i = 1; i < argc; i++) {
        const std::string flag = argv[i];
        size_t k = 0;
        while (k < table.size() && flag != table[k].flag)
            k++;
        if (k == table.size()) {
            error = "unknown option '" + flag + "'";
            return false;
        }
        if (i + 1 >= argc) {
            error = flag + " needs a value";
            return false;
        }
        const std::string value = argv[++i];
        try {
            table[k].set(run, value);
        } catch (const std::exception &) {
            error = flag + " " + value + ": not a valid value (" + table[k].value + ")";
            return false;
        }
        given[k] = true;
    }
    for (size_t k = 0; k < table.size(); k++) {
        if (table[k].required && !given[k]) {
            error = std::string(table[k].flag) + " is required";
            return false;
        }
        if (!table[k].valid(run)) {
            error = std::string(table[k].flag) + ": value out of range";
            return false;
        }
    }
    return true;
}

std::string train_usage()
{
    const std::string lead = "usage: dsfn-train";
    std::string out = lead, line;
    auto add = [&](const std::string &item) {
        if (line.size() + item.size() + 1 > 96 - lead.size()) {
            out += line + "\n" + std::string(lead.size(), ' ');
            line.clear();
        }
        line += " " + item;
    };
    for (const auto &o : train_options())
        add(o.required ? text(o.flag, " ", o.value) : text("[", o.flag, " ", o.value, "]"));
    return out + line + "\n";
}

std::string schedule_entry(const TrainConfig &config, bool with_clips)
{
    std::string entry;
    for (const auto &o : train_options())
        if (o.schedule)
            entry += o.schedule(config, with_clips);
    return entry;
}

std::string recipe_command(const TrainRun &run)
{
    std::string command = "dsfn-train";
    for (const auto &o : train_options()) {
        const std::string part = o.recipe(run);
        if (!part.empty())
            command += " " + part;
    }
    return command;
}

} // namespace dsfn
