// dsfn-tool: create, inspect and size DSFN weights files.
//
//   dsfn-tool params [--width W] [--levels L]        parameter count of an architecture
//   dsfn-tool init OUT [--width W] [--seed S] [--fp16] [--zero-residual]
//                                                     randomly initialised weights (a test
//                                                     fixture, not a trained model); with
//                                                     --zero-residual the outputs are the
//                                                     network's residual bases
//   dsfn-tool info FILE                               validate a file and print its architecture
//   dsfn-tool widen IN OUT --width W [--seed S]       the same network with more channels
//                                                     (model/widen.h), to train further; OUT.recipe
//                                                     continues IN.recipe
//   dsfn-tool average OUT IN IN...                   the mean of trained weights of one
//                                                     architecture (model/weights_average.h)
//   dsfn-tool cost [FILE] [--width W] [--size WxH] [--threads T]
//                                                     FLOPs per input frame and the roofline:
//                                                     the bare convolutions' speed, fp32 and bf16
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "conv_cost.h"
#include "dsfn_net.h"
#include "malloc_policy.h"
#include "weights_average.h"
#include "weights_file.h"
#include "widen.h"

namespace {

int usage()
{
    std::cerr << "usage: dsfn-tool params [--width W] [--levels L]\n"
                 "       dsfn-tool init OUT [--width W] [--levels L] [--seed S] [--fp16] [--zero-residual]\n"
                 "       dsfn-tool info FILE\n"
                 "       dsfn-tool widen IN OUT --width W [--seed S]\n"
                 "       dsfn-tool average OUT IN IN...\n"
                 "       dsfn-tool cost [FILE] [--width W] [--size WxH] [--threads T]\n";
    return 2;
}

struct Args {
    dsfn::Architecture arch;
    uint64_t seed = 1;
    bool fp16 = false;
    bool zero_residual = false;
    std::string path, second_path;
    std::vector<std::string> more_paths; // the third path on (average)
    bool width_given = false;
    int64_t size_w = 160, size_h = 90;
    int64_t threads = 0;
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

// FLOPs of one input frame and the bare convolutions' speed at both precisions.
void print_cost(const dsfn::NetworkImpl &net, const Args &a)
{
    if (a.threads > 0)
        torch::set_num_threads(static_cast<int>(a.threads));
    const auto shapes = dsfn::conv_shapes_per_frame(net);
    const double flops = dsfn::conv_flops(shapes, a.size_h, a.size_w);
    std::cout << "size " << a.size_w << "x" << a.size_h << ", threads " << torch::get_num_threads() << "\n"
              << "flops per input frame: " << flops / 1e9 << " GFLOP ("
              << flops / (a.size_w * a.size_h) / 1e6 << " MFLOP per input pixel)\n";
    for (auto type : {torch::kFloat, torch::kBFloat16}) {
        const double t = dsfn::conv_seconds(shapes, a.size_h, a.size_w, type, 3);
        std::cout << "roofline " << (type == torch::kFloat ? "fp32" : "bf16") << ": " << t
                  << " s per input frame, " << flops / t / 1e9 << " GFLOP/s\n";
    }
}

// Where one frame's time goes in the network itself, fp32 and bf16.
void print_breakdown(dsfn::NetworkImpl &net, const Args &a)
{
    for (auto type : {torch::kFloat, torch::kBFloat16}) {
        net.to(type);
        const auto t = dsfn::time_frame(net, a.size_h, a.size_w, 3);
        std::cout << "passes " << (type == torch::kFloat ? "fp32" : "bf16") << ": " << t.passes
                  << " s per input frame; deformable conv " << t.deform << " s ("
                  << 100 * t.deform / t.passes << "%), conversion + pixel shuffle " << t.convert << " s ("
                  << 100 * t.convert / t.passes << "%)\n";
    }
    net.to(torch::kFloat);
}

bool parse(int argc, char **argv, Args &a)
{
    for (int i = 2; i < argc; i++) {
        const std::string opt = argv[i];
        const bool has_value = i + 1 < argc;
        int64_t v = 0;
        if (opt == "--width" && has_value && parse_int(argv[i + 1], 1, 1024, v))
            a.arch.width = v, a.width_given = true, i++;
        else if (opt == "--levels" && has_value && parse_int(argv[i + 1], 1, 2, v))
            a.arch.levels = v, i++;
        else if (opt == "--threads" && has_value && parse_int(argv[i + 1], 1, 1024, v))
            a.threads = v, i++;
        else if (opt == "--size" && has_value && parse_size(argv[i + 1], a.size_w, a.size_h))
            i++;
        else if (opt == "--seed" && has_value && parse_int(argv[i + 1], 0, INT64_MAX, v))
            a.seed = static_cast<uint64_t>(v), i++;
        else if (opt == "--fp16")
            a.fp16 = true;
        else if (opt == "--zero-residual")
            a.zero_residual = true;
        else if (opt.rfind("--", 0) != 0 && a.path.empty())
            a.path = opt;
        else if (opt.rfind("--", 0) != 0 && a.second_path.empty())
            a.second_path = opt;
        else if (opt.rfind("--", 0) != 0)
            a.more_paths.push_back(opt);
        else {
            std::cerr << "dsfn-tool: bad argument '" << opt << "'\n";
            return false;
        }
    }
    return true;
}

void print_architecture(const dsfn::Architecture &arch, int64_t params)
{
    std::cout << "width " << arch.width << ", scale " << arch.scale << ", levels " << arch.levels
              << ", parameters " << params << " (" << params / 1e6 << " M)\n";
}

// OUT.recipe: IN.recipe with the new width and parameter count, and the
// widening as one more event of the schedule, so the trainer's --init continues
// the step count, training time and schedule history of the narrow model.
void write_widened_recipe(const Args &a, int64_t narrow_width, int64_t params)
{
    std::ifstream in(a.path + ".recipe");
    std::string schedule_line, step = "0";
    std::ofstream out(a.second_path + ".recipe");
    out << "# " << a.second_path << ": " << a.path << " widened from width " << narrow_width << " to "
        << a.arch.width << " by dsfn-tool widen --seed " << a.seed << " (same outputs)\n";
    const std::string event = "widened from width " + std::to_string(narrow_width) + " to " +
                              std::to_string(a.arch.width) + " (dsfn-tool widen --seed " + std::to_string(a.seed) + ")";
    for (std::string line, value; std::getline(in, line);) {
        if (dsfn::recipe_value(line, "steps done: ", value))
            step = value;
        if (dsfn::recipe_value(line, "width: ", value))
            line = "width: " + std::to_string(a.arch.width);
        else if (dsfn::recipe_value(line, "parameters: ", value))
            line = "parameters: " + std::to_string(params);
        else if (dsfn::recipe_value(line, "schedule: ", value)) {
            schedule_line = line;
            continue; // written last, once the step is known
        }
        out << line << "\n";
    }
    out << (schedule_line.empty() ? "schedule: " : schedule_line + "; ") << "at step " << step << ": " << event
        << "\n";
    if (!out)
        throw std::runtime_error(a.second_path + ".recipe: cannot write");
}

// OUT.recipe: the recipes of the averaged files, each under its name (all read
// before OUT.recipe is opened, which may be one of them).
void write_average_recipe(const std::string &out_path, const std::vector<std::string> &inputs)
{
    std::ostringstream text;
    text << "# " << out_path << ": the mean of the weights of";
    for (const auto &in : inputs)
        text << " " << in;
    text << " (dsfn-tool average); their recipes follow\n";
    for (const auto &in : inputs) {
        std::ifstream recipe(in + ".recipe");
        text << "## " << in << (recipe ? "\n" : ": no recipe\n");
        if (recipe)
            text << recipe.rdbuf();
    }
    std::ofstream out(out_path + ".recipe");
    out << text.str();
    if (!out)
        throw std::runtime_error(out_path + ".recipe: cannot write");
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const std::string cmd = argv[1];
    Args a;
    if (!parse(argc, argv, a) || (!a.second_path.empty() && cmd != "widen" && cmd != "average") ||
        (!a.more_paths.empty() && cmd != "average"))
        return usage();
    try {
        if (cmd == "params") {
            dsfn::Network net(a.arch);
            print_architecture(a.arch, net->parameter_count());
        } else if (cmd == "init" && !a.path.empty()) {
            torch::manual_seed(a.seed);
            dsfn::Network net(a.arch);
            if (a.zero_residual)
                net->zero_residuals();
            dsfn::save_weights(a.path, *net, a.fp16 ? dsfn::Storage::Float16 : dsfn::Storage::Float32);
            std::cout << a.path << ": random weights, ";
            print_architecture(a.arch, net->parameter_count());
        } else if (cmd == "cost") {
            dsfn::keep_freed_memory(); // as the engine does, so the timings match the filter's
            auto net = a.path.empty() ? dsfn::Network(a.arch) : dsfn::load_weights(a.path);
            net->eval();
            print_cost(*net, a);
            print_breakdown(*net, a);
        } else if (cmd == "widen" && !a.second_path.empty() && a.width_given) {
            auto narrow = dsfn::load_weights(a.path);
            auto wide = dsfn::widen(*narrow, a.arch.width, a.seed);
            dsfn::save_weights(a.second_path, *wide, dsfn::Storage::Float32);
            write_widened_recipe(a, narrow->architecture().width, wide->parameter_count());
            std::cout << a.second_path << ": " << a.path << " widened, ";
            print_architecture(wide->architecture(), wide->parameter_count());
        } else if (cmd == "average" && !a.more_paths.empty()) {
            std::vector<std::string> inputs{a.second_path};
            inputs.insert(inputs.end(), a.more_paths.begin(), a.more_paths.end());
            auto mean = dsfn::average_weights(inputs);
            dsfn::save_weights(a.path, *mean, dsfn::Storage::Float32);
            write_average_recipe(a.path, inputs);
            std::cout << a.path << ": the mean of " << inputs.size() << " weights files, ";
            print_architecture(mean->architecture(), mean->parameter_count());
        } else if (cmd == "info" && !a.path.empty()) {
            auto net = dsfn::load_weights(a.path);
            std::cout << a.path << ": ";
            print_architecture(net->architecture(), net->parameter_count());
        } else {
            return usage();
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
