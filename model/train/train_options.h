// dsfn-train's options, each defined once: one table gives the command line's
// parsing and checks, the usage text, the option's part of a schedule entry (the
// recipe's "schedule:" history) and of the recipe's "command:" line.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "train/training.h"

namespace dsfn {

// Everything one run of dsfn-train is told.
struct TrainRun {
    TrainConfig train;
    std::string photos, checkpoint, out, init;
    std::string clips;     // directory of real clips (optional)
    std::string snapshots; // directory for weights every snapshot_minutes of training
    double snapshot_minutes = 15;
    int64_t run_steps = -1; // stop after this many steps in this run
    double minutes = 0;     // stop after this much wall time in this run (0: no limit)
    double save_minutes = 10;
    int64_t log_every = 10;
    int threads = 2;
};

struct TrainOption {
    const char *flag;  // "--clip-fraction"
    const char *value; // for the usage text: the default (a number), or what the value is ("DIR")
    bool required;
    // Sets the option from its value; throws std::exception on a malformed one.
    std::function<void(TrainRun &, const std::string &)> set;
    // Whether the run's value is allowed (checked after every option is read).
    std::function<bool(const TrainRun &)> valid;
    // The option as the recipe's command line gives it ("" leaves it out: a path,
    // or a setting that does not change the weights).
    std::function<std::string(const TrainRun &)> recipe;
    // Its part of a schedule entry (empty function: none).
    std::function<std::string(const TrainConfig &, bool with_clips)> schedule;
};

const std::vector<TrainOption> &train_options();

// Reads argv into run; false (with the reason in error) for an unknown option, a
// missing or malformed value, a value out of range or a required option missing.
bool parse_train_options(int argc, char **argv, TrainRun &run, std::string &error);
std::string train_usage();

// "cosine 3e-05 to 3e-06 over steps 94000-103000, batch 4 of 32x32, ..., seed 14, ..."
std::string schedule_entry(const TrainConfig &config, bool with_clips);
// "dsfn-train --width 16 --lr 3e-05 ..."
std::string recipe_command(const TrainRun &run);

} // namespace dsfn
