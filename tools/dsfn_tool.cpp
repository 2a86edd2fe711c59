// dsfn-tool: create, inspect, combine and size DSFN weights files; `dsfn-tool --help`
// (kUsage below) lists the commands.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "dsfn/engine.h"
#include "tools/conv_cost.h"
#include "tools/op_profile.h"
#include "tools/quantize.h"
#include "engine/prepared_network.h"
#include "int8/quantized_conv.h"
#include "net/dsfn_net.h"
#include "memory/memory_policy.h"
#include "tools/weights_average.h"
#include "net/weights_file.h"
#include "onednn/float_runner.h"
#include "recipe/recipe.h"
#include "tools/widen.h"

namespace {

const char kUsage[] = "usage: dsfn-tool COMMAND [ARGUMENTS] [OPTIONS]\n"
                      "\n"
                      "  params [--width W] [--levels L]\n"
                      "      parameter count of an architecture\n"
                      "  init OUT [--width W] [--levels L] [--seed S] [--fp16] [--zero-residual] [--force]\n"
                      "      randomly initialised weights (a test fixture, not a trained model); with\n"
                      "      --zero-residual the outputs are the network's residual bases\n"
                      "  info FILE\n"
                      "      validate a weights file and print its architecture\n"
                      "  widen IN OUT --width W [--seed S] [--force]\n"
                      "      the same network with more channels, to train further; OUT.recipe continues IN.recipe\n"
                      "  average OUT IN IN... [--force]\n"
                      "      the mean of trained weights files of one architecture, and OUT.recipe\n"
                      "  cost [FILE] [--width W] [--levels L] [--size WxH] [--threads T]\n"
                      "      FLOPs per input frame of FILE's network (without FILE: a random network of\n"
                      "      width W, 16 by default), the bare convolutions' speed (the roofline) and the\n"
                      "      passes' time, in fp32 and bf16 (the roofline in int8 too), on WxH input frames\n"
                      "      (160x90 by default) with T threads (all online cores by default)\n"
                      "  profile FILE [--size WxH] [--threads T] [--precision P] [--frames N]\n"
                      "      where an input frame's time goes in the filter's engine, operation by operation\n"
                      "      (LibTorch's profiler over N steady-state frames, 4 by default), in precision P\n"
                      "      (fp32, bf16, int8 or auto; fp32 by default) with T threads (1 by default)\n"
                      "  quantize MODEL --photos DIR [--clips DIR] [--windows N] [--patch P] [--seed S]\n"
                      "           [--noise STD] [--force]\n"
                      "      MODEL.int8, the activation ranges precision=int8 needs, measured over N\n"
                      "      training windows (64 by default) of PxP input pixels (48) made from the photos\n"
                      "      and clips of scripts/train/fetch-training-*.sh; prints how close int8 comes to\n"
                      "      float32 on windows the ranges did not see\n"
                      "  help, --help, -h\n"
                      "      this text\n"
                      "\n"
                      "Commands that write a file refuse to replace one unless given --force, and never\n"
                      "write over one of their inputs.\n";

int usage_error(const std::string &why)
{
    std::cerr << "dsfn-tool: " << why << "\n(dsfn-tool --help for usage)\n";
    return 2;
}

struct Args {
    dsfn::Architecture arch;
    uint64_t seed = 1;
    bool fp16 = false;
    bool zero_residual = false;
    bool force = false;
    std::vector<std::string> paths; // positional arguments, in order
    bool width_given = false;
    int64_t size_w = 160, size_h = 90;
    int64_t threads = 0;
    int precision = DSFN_PRECISION_FP32;
    int64_t frames = 4;
    dsfn::QuantizeRequest quantize;
};

// What each command takes: positional arguments (at least, at most; -1: no limit)
// and the options that mean something to it.
struct Command {
    const char *name;
    int min_paths, max_paths;
    std::vector<std::string> options;
};

const std::vector<Command> kCommands = {
    {"params", 0, 0, {"--width", "--levels"}},
    {"init", 1, 1, {"--width", "--levels", "--seed", "--fp16", "--zero-residual", "--force"}},
    {"info", 1, 1, {}},
    {"widen", 2, 2, {"--width", "--seed", "--force"}},
    {"average", 3, -1, {"--force"}},
    {"cost", 0, 1, {"--width", "--levels", "--size", "--threads"}},
    {"profile", 1, 1, {"--size", "--threads", "--precision", "--frames"}},
    {"quantize", 1, 1, {"--photos", "--clips", "--windows", "--patch", "--seed", "--noise", "--force"}},
};

bool parse_int(const char *s, int64_t lo, int64_t hi, int64_t &out)
{
    char *end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s, &end, 10);
    if (errno || !*s || *end || v < lo || v > hi)
        return false;
    out = v;
    return true;
}

bool parse_size(const std::string &s, int64_t &w, int64_t &h)
{
    const auto x = s.find('x');
    return x != std::string::npos && parse_int(s.substr(0, x).c_str(), 1, 16384, w) &&
           parse_int(s.substr(x + 1).c_str(), 1, 16384, h);
}

// Parses argv[2..] for `cmd` into a; returns "" or what is wrong.
std::string parse(const Command &cmd, int argc, char **argv, Args &a)
{
    for (int i = 2; i < argc; i++) {
        const std::string opt = argv[i];
        if (opt.rfind("--", 0) != 0 || opt == "--") {
            a.paths.push_back(opt);
            continue;
        }
        if (std::find(cmd.options.begin(), cmd.options.end(), opt) == cmd.options.end())
            return "'" + opt + "' is not an option of " + cmd.name;
        if (opt == "--fp16" || opt == "--zero-residual" || opt == "--force") {
            (opt == "--fp16" ? a.fp16 : opt == "--force" ? a.force : a.zero_residual) = true;
            continue;
        }
        if (i + 1 >= argc)
            return opt + " needs a value";
        const char *value = argv[++i];
        int64_t v = 0;
        auto bad = [&](const std::string &allowed) { return opt + " must be " + allowed + ", not '" + value + "'"; };
        if (opt == "--width") {
            if (!parse_int(value, 1, 1024, v))
                return bad("a width of 1 to 1024 channels");
            a.arch.width = v, a.width_given = true;
        } else if (opt == "--levels") {
            if (!parse_int(value, 1, 2, v))
                return bad("1 or 2");
            a.arch.levels = v;
        } else if (opt == "--threads") {
            if (!parse_int(value, 1, 1024, v))
                return bad("1 to 1024");
            a.threads = v;
        } else if (opt == "--size") {
            if (!parse_size(value, a.size_w, a.size_h))
                return bad("WxH, each 1 to 16384 pixels");
        } else if (opt == "--precision") {
            const int p = dsfn::precision_from_name(value);
            if (p != DSFN_PRECISION_FP32 && p != DSFN_PRECISION_BF16 && p != DSFN_PRECISION_AUTO &&
                p != DSFN_PRECISION_INT8)
                return bad("fp32, bf16, int8 or auto");
            a.precision = p;
        } else if (opt == "--frames") {
            if (!parse_int(value, 1, 1000, v))
                return bad("1 to 1000");
            a.frames = v;
        } else if (opt == "--seed") {
            if (!parse_int(value, 0, INT64_MAX, v))
                return bad("a whole number from 0");
            a.seed = static_cast<uint64_t>(v);
        } else if (opt == "--photos" || opt == "--clips") {
            (opt == "--photos" ? a.quantize.photos : a.quantize.clips) = value;
        } else if (opt == "--windows") {
            if (!parse_int(value, 4, 100000, v) || v % 4)
                return bad("a multiple of 4 from 4 to 100000");
            a.quantize.windows = v;
        } else if (opt == "--patch") {
            if (!parse_int(value, 16, 1024, v))
                return bad("16 to 1024 pixels");
            a.quantize.patch = v;
        } else if (opt == "--noise") {
            char *end = nullptr;
            const double d = std::strtod(value, &end);
            if (!*value || *end || !(d >= 0 && d <= 1))
                return bad("a deviation from 0 to 1");
            a.quantize.noise = d;
        }
    }
    const int n = static_cast<int>(a.paths.size());
    if (n < cmd.min_paths || (cmd.max_paths >= 0 && n > cmd.max_paths)) {
        std::string want = cmd.max_paths < 0 ? "at least " + std::to_string(cmd.min_paths)
                           : cmd.min_paths == cmd.max_paths
                               ? std::to_string(cmd.min_paths)
                               : std::to_string(cmd.min_paths) + " or " + std::to_string(cmd.max_paths);
        return std::string(cmd.name) + " takes " + want + " file argument(s), not " + std::to_string(n);
    }
    if (std::string(cmd.name) == "widen" && !a.width_given)
        return "widen needs --width";
    if (std::string(cmd.name) == "quantize" && a.quantize.photos.empty())
        return "quantize needs --photos";
    return "";
}

bool same_file(const std::string &a, const std::string &b)
{
    struct stat sa, sb;
    if (stat(a.c_str(), &sa) != 0 || stat(b.c_str(), &sb) != 0)
        return a == b;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// OUT (and OUT.recipe) may be written: never over an input, and over an
// existing file only with --force.
void check_output(const std::string &out, const std::vector<std::string> &inputs, bool force)
{
    for (const auto &in : inputs)
        for (const auto &[o, i] :
             {std::pair{out, in}, std::pair{dsfn::Recipe::path_for(out), dsfn::Recipe::path_for(in)}})
            if (same_file(o, i))
                throw std::runtime_error(o + " is also an input: write the result to another file");
    if (force)
        return;
    for (const auto &o : {out, dsfn::Recipe::path_for(out)})
        if (access(o.c_str(), F_OK) == 0)
            throw std::runtime_error(o + " exists: give --force to replace it");
}

// FLOPs of one input frame and the bare convolutions' speed at both precisions.
void print_cost(const dsfn::NetworkImpl &net, const Args &a)
{
    // All online cores by default, as the filter's threads=0.
    torch::set_num_threads(static_cast<int>(a.threads > 0 ? a.threads : std::max(1L, sysconf(_SC_NPROCESSORS_ONLN))));
    const auto shapes = dsfn::conv_shapes_per_frame(net);
    const double flops = dsfn::conv_flops(shapes, a.size_h, a.size_w);
    std::cout << "size " << a.size_w << "x" << a.size_h << ", threads " << torch::get_num_threads() << "\n"
              << "flops per input frame: " << flops / 1e9 << " GFLOP (" << flops / (a.size_w * a.size_h) / 1e6
              << " MFLOP per input pixel)\n";
    for (auto type : {torch::kFloat, torch::kBFloat16, torch::kQUInt8}) {
        const double t = dsfn::conv_seconds(shapes, a.size_h, a.size_w, type, 3);
        const char *name = type == torch::kFloat ? "fp32" : type == torch::kBFloat16 ? "bf16" : "int8";
        std::cout << "roofline " << name << ": " << t << " s per input frame, " << flops / t / 1e9 << " GFLOP/s\n";
    }
    std::cout << "int8 backend: " << dsfn::quantized_conv_backend() << "\n";
}

// Where one frame's time goes in the network itself, fp32 and bf16.
void print_breakdown(dsfn::NetworkImpl &net, const Args &a)
{
    for (auto type : {torch::kFloat, torch::kBFloat16}) {
        net.to(type);
        // As the filter runs them (prepared_network.cpp).
        if (dsfn::onednn_float_runner_available())
            net.run_convs_with(std::make_shared<dsfn::OnednnFloatRunner>(net, type));
        const auto t = dsfn::time_frame(net, a.size_h, a.size_w, 3);
        net.run_convs_with(nullptr);
        std::cout << "passes " << (type == torch::kFloat ? "fp32" : "bf16") << ": " << t.passes
                  << " s per input frame; deformable conv " << t.deform << " s (" << 100 * t.deform / t.passes
                  << "%), conversion + pixel shuffle " << t.convert << " s (" << 100 * t.convert / t.passes << "%)\n";
    }
    net.to(torch::kFloat);
}

void print_architecture(const dsfn::Architecture &arch, int64_t params)
{
    std::cout << "width " << arch.width << ", scale " << arch.scale << ", levels " << arch.levels << ", parameters "
              << params << " (" << params / 1e6 << " M)\n";
}

// OUT.recipe: IN.recipe with the new width and parameter count, and the
// widening as one more event of the schedule, so the trainer's --init continues
// the step count, training time and schedule history of the narrow model.
void write_widened_recipe(const Args &a, int64_t narrow_width, int64_t params)
{
    namespace key = dsfn::recipe_key;
    const std::string &in_path = a.paths[0], &out_path = a.paths[1];
    const dsfn::Recipe in = dsfn::Recipe::read(dsfn::Recipe::path_for(in_path)).value_or(dsfn::Recipe{});
    const std::string event = "widened from width " + std::to_string(narrow_width) + " to " +
                              std::to_string(a.arch.width) + " (dsfn-tool widen --seed " + std::to_string(a.seed) + ")";
    const std::string schedule = in.get(key::kSchedule).value_or("");
    dsfn::Recipe out;
    out.add_line("# " + out_path + ": " + in_path + " widened from width " + std::to_string(narrow_width) + " to " +
                 std::to_string(a.arch.width) + " by dsfn-tool widen --seed " + std::to_string(a.seed) +
                 " (same outputs)");
    out.add_lines(in);
    out.erase(key::kPrecisions); // other weights: evaluated again or not at all
    out.set(key::kWidth, std::to_string(a.arch.width));
    out.set(key::kParameters, std::to_string(params));
    out.set(key::kSchedule, (schedule.empty() ? "" : schedule + "; ") + "at step " +
                                in.get(key::kStepsDone).value_or("0") + ": " + event);
    out.write(dsfn::Recipe::path_for(out_path));
}

// OUT.recipe: the recipes of the averaged files, each under its name (all read
// before OUT.recipe is written, which may be one of them).
void write_average_recipe(const std::string &out_path, const std::vector<std::string> &inputs)
{
    dsfn::Recipe out;
    std::string names;
    for (const auto &in : inputs)
        names += " " + in;
    out.add_line("# " + out_path + ": the mean of the weights of" + names +
                 " (dsfn-tool average); their recipes follow");
    for (const auto &in : inputs) {
        auto recipe = dsfn::Recipe::read(dsfn::Recipe::path_for(in));
        out.add_line("## " + in + (recipe ? "" : ": no recipe"));
        if (recipe) {
            recipe->erase(dsfn::recipe_key::kPrecisions); // true of that file's weights only
            out.add_lines(*recipe);
        }
    }
    out.write(dsfn::Recipe::path_for(out_path));
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("no command given");
    const std::string name = argv[1];
    if (name == "help" || name == "--help" || name == "-h") {
        std::cout << kUsage;
        return 0;
    }
    for (int i = 2; i < argc; i++)
        if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
            std::cout << kUsage;
            return 0;
        }
    const auto cmd = std::find_if(kCommands.begin(), kCommands.end(), [&](const Command &c) { return name == c.name; });
    if (cmd == kCommands.end())
        return usage_error("unknown command '" + name + "'");
    Args a;
    const std::string bad = parse(*cmd, argc, argv, a);
    if (!bad.empty())
        return usage_error(bad);
    try {
        if (name == "params") {
            dsfn::Network net(a.arch);
            print_architecture(a.arch, net->parameter_count());
        } else if (name == "init") {
            check_output(a.paths[0], {}, a.force);
            torch::manual_seed(a.seed);
            dsfn::Network net(a.arch);
            if (a.zero_residual)
                net->zero_residuals();
            dsfn::save_weights(a.paths[0], *net, a.fp16 ? dsfn::Storage::Float16 : dsfn::Storage::Float32);
            std::cout << a.paths[0] << ": random weights, ";
            print_architecture(a.arch, net->parameter_count());
        } else if (name == "cost") {
            if (!a.width_given)
                a.arch.width = 16;                  // the shipped default model's width
            const dsfn::MemoryPolicy memory_policy; // as the engine has, so the timings match the filter's
            auto net = a.paths.empty() ? dsfn::Network(a.arch) : dsfn::load_weights(a.paths[0]);
            net->eval();
            std::cout << (a.paths.empty() ? "a random network" : a.paths[0]) << ": width " << net->architecture().width
                      << ", levels " << net->architecture().levels << "\n";
            print_cost(*net, a);
            print_breakdown(*net, a);
        } else if (name == "profile") {
            dsfn::ProfileRequest request;
            request.model = a.paths[0];
            request.width = a.size_w;
            request.height = a.size_h;
            request.precision = a.precision;
            request.threads = a.threads > 0 ? static_cast<int>(a.threads) : 1;
            request.frames = static_cast<int>(a.frames);
            dsfn::print_op_profile(request, std::cout);
        } else if (name == "quantize") {
            a.quantize.model = a.paths[0];
            a.quantize.seed = a.seed;
            a.quantize.force = a.force;
            dsfn::write_int8_ranges(a.quantize, std::cout);
        } else if (name == "widen") {
            check_output(a.paths[1], {a.paths[0]}, a.force);
            auto narrow = dsfn::load_weights(a.paths[0]);
            auto wide = dsfn::widen(*narrow, a.arch.width, a.seed);
            dsfn::save_weights(a.paths[1], *wide, dsfn::Storage::Float32);
            write_widened_recipe(a, narrow->architecture().width, wide->parameter_count());
            std::cout << a.paths[1] << ": " << a.paths[0] << " widened, ";
            print_architecture(wide->architecture(), wide->parameter_count());
        } else if (name == "average") {
            const std::vector<std::string> inputs(a.paths.begin() + 1, a.paths.end());
            check_output(a.paths[0], inputs, a.force);
            auto mean = dsfn::average_weights(inputs);
            dsfn::save_weights(a.paths[0], *mean, dsfn::Storage::Float32);
            write_average_recipe(a.paths[0], inputs);
            std::cout << a.paths[0] << ": the mean of " << inputs.size() << " weights files, ";
            print_architecture(mean->architecture(), mean->parameter_count());
        } else if (name == "info") {
            auto net = dsfn::load_weights(a.paths[0]);
            std::cout << a.paths[0] << ": ";
            print_architecture(net->architecture(), net->parameter_count());
        }
    } catch (const dsfn::WeightsError &e) {
        std::cerr << "dsfn-tool: " << e.what() << "\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "dsfn-tool: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
