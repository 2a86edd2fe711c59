// dsfn-tool: create, inspect and size DSFN weights files.
//
//   dsfn-tool params [--width W] [--levels L]        parameter count of an architecture
//   dsfn-tool init OUT [--width W] [--seed S] [--fp16] [--zero-residual]
//                                                     randomly initialised weights (a test
//                                                     fixture, not a trained model); with
//                                                     --zero-residual the outputs are the
//                                                     network's residual bases
//   dsfn-tool info FILE                               validate a file and print its architecture
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "dsfn_net.h"
#include "weights_file.h"

namespace {

int usage()
{
    std::cerr << "usage: dsfn-tool params [--width W] [--levels L]\n"
                 "       dsfn-tool init OUT [--width W] [--levels L] [--seed S] [--fp16] [--zero-residual]\n"
                 "       dsfn-tool info FILE\n";
    return 2;
}

struct Args {
    dsfn::Architecture arch;
    uint64_t seed = 1;
    bool fp16 = false;
    bool zero_residual = false;
    std::string path;
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

bool parse(int argc, char **argv, Args &a)
{
    for (int i = 2; i < argc; i++) {
        const std::string opt = argv[i];
        const bool has_value = i + 1 < argc;
        int64_t v = 0;
        if (opt == "--width" && has_value && parse_int(argv[i + 1], 1, 1024, v))
            a.arch.width = v, i++;
        else if (opt == "--levels" && has_value && parse_int(argv[i + 1], 1, 2, v))
            a.arch.levels = v, i++;
        else if (opt == "--seed" && has_value && parse_int(argv[i + 1], 0, INT64_MAX, v))
            a.seed = static_cast<uint64_t>(v), i++;
        else if (opt == "--fp16")
            a.fp16 = true;
        else if (opt == "--zero-residual")
            a.zero_residual = true;
        else if (opt.rfind("--", 0) != 0 && a.path.empty())
            a.path = opt;
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

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const std::string cmd = argv[1];
    Args a;
    if (!parse(argc, argv, a))
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
