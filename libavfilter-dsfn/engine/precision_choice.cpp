#include "engine/precision_choice.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <sstream>

#include "dsfn/engine.h"
#include "engine/precision_cache.h"
#include "engine/prepared_network.h"
#include "recipe/recipe.h"

namespace dsfn {

namespace {

constexpr int64_t kTimingSide = 64; // frames large enough that the convolutions dominate
constexpr int kTimingRuns = 3;      // the fastest of each precision's runs counts
// A faster precision must beat fp32 by this much, or fp32 (the reference) stays.
constexpr double kMinSpeedup = 1.1;

std::string ratio_text(double speedup)
{
    char text[32];
    std::snprintf(text, sizeof(text), "%.2fx", speedup);
    return text;
}

std::string key_for(const Network &net, const std::vector<int> &candidates)
{
    const Architecture &a = net->architecture();
    std::string key = machine_key() + " model w" + std::to_string(a.width) + " s" + std::to_string(a.scale) + " l" +
                      std::to_string(a.levels) + " c" + std::to_string(a.colors) + " among";
    for (int p : candidates)
        key += std::string(" ") + precision_name(p);
    return key;
}

} // namespace

std::vector<int> evaluated_precisions(const std::string &model_path, bool on_gpu)
{
    std::vector<int> list{DSFN_PRECISION_FP32};
    std::optional<Recipe> recipe;
    try {
        recipe = Recipe::read(Recipe::path_for(model_path));
    } catch (const std::exception &) {
        return list; // an unreadable recipe vouches for nothing
    }
    const auto names = recipe ? recipe->get(recipe_key::kPrecisions) : std::nullopt;
    if (!names)
        return list;
    std::istringstream words(*names);
    std::string word;
    while (words >> word) {
        const int p = precision_from_name(word);
        if (p < 0 || p == DSFN_PRECISION_AUTO || (p == DSFN_PRECISION_FP16 && !on_gpu) ||
            (p == DSFN_PRECISION_INT8 && on_gpu))
            continue; // not a precision this engine knows (yet), or one it cannot run here
        if (std::find(list.begin(), list.end(), p) == list.end())
            list.push_back(p);
    }
    return list;
}

std::vector<double> time_level1(std::vector<Network> nets, const DeviceStream &place, int64_t side, int runs)
{
    c10::InferenceMode guard;
    const auto on_device = place.enter();
    // A smooth pattern rather than noise: the deformable offsets then stay small,
    // as on real pictures. Not the global random generator: the host's stays put.
    auto frame = [&](double phase) {
        auto x = torch::arange(3 * side * side, torch::kFloat).reshape({1, 3, side, side});
        return (torch::sin(x * 0.013 + phase) * 0.4 + 0.5)
            .to(place.device())
            .contiguous(at::MemoryFormat::ChannelsLast);
    };
    const auto b0 = frame(0), b1 = frame(0.3), b2 = frame(0.6);
    std::vector<double> best(nets.size(), 1e30);
    for (int run = -1; run < runs; run++) { // run -1: warm-up (primitive creation, caches)
        for (size_t i = 0; i < nets.size(); i++) {
            const auto start = std::chrono::steady_clock::now();
            auto maps = nets[i]->level1(b0, b1, b2);
            place.synchronize();
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (run >= 0)
                best[i] = std::min(best[i], seconds);
        }
    }
    return best;
}

PrecisionChoice choose_precision(const std::string &model_path, const DeviceStream &place,
                                 const std::string &cache_path)
{
    const std::vector<int> candidates = evaluated_precisions(model_path, place.on_gpu());
    PrecisionChoice choice;
    choice.precision = DSFN_PRECISION_FP32;
    if (candidates.size() == 1) {
        choice.net = load_prepared_network(model_path, place.device(), DSFN_PRECISION_FP32);
        choice.reason = "the model's recipe names no other precision evaluated within 0.05 dB of fp32";
        return choice;
    }

    std::vector<Network> nets;
    nets.push_back(load_prepared_network(model_path, place.device(), DSFN_PRECISION_FP32));
    // On a GPU the passes take milliseconds, and which GPU it is can change: always measure there.
    const PrecisionCache cache(place.on_gpu() ? std::string() : cache_path);
    const std::string key = key_for(nets[0], candidates);
    if (const auto cached = cache.find(key)) {
        const int p = precision_from_name(cached->precision);
        if (std::find(candidates.begin(), candidates.end(), p) != candidates.end()) {
            try {
                choice.net = p == DSFN_PRECISION_FP32 ? nets[0] : load_prepared_network(model_path, place.device(), p);
                choice.precision = p;
                choice.reason = (p == DSFN_PRECISION_FP32 ? std::string("no other precision was faster")
                                                          : ratio_text(cached->speedup) + " fp32") +
                                " here, as measured before (" + cache.path() + ")";
                return choice;
            } catch (const std::exception &) {
                // It no longer loads (int8 ranges gone or broken): measure what does.
            }
        }
    }

    const auto start = std::chrono::steady_clock::now();
    std::vector<int> timed{DSFN_PRECISION_FP32};
    std::string skipped; // candidates that would not load (int8 without its ranges file)
    for (size_t i = 1; i < candidates.size(); i++) {
        try {
            nets.push_back(load_prepared_network(model_path, place.device(), candidates[i]));
            timed.push_back(candidates[i]);
        } catch (const std::exception &e) {
            skipped += std::string("; ") + precision_name(candidates[i]) + " not tried: " + e.what();
        }
    }
    if (timed.size() == 1) {
        choice.net = nets[0];
        choice.reason = "the only precision that loaded" + skipped;
        return choice;
    }
    std::vector<double> seconds;
    bool measured = true;
    try {
        seconds = time_level1(nets, place, kTimingSide, kTimingRuns);
    } catch (const std::exception &) {
        // A precision this device cannot run after all: fp32 alone, which the
        // engine has run since before auto existed (and nothing to cache).
        nets.erase(nets.begin() + 1, nets.end());
        timed.erase(timed.begin() + 1, timed.end());
        seconds = {1.0};
        measured = false;
    }
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    size_t fastest = 0;
    for (size_t i = 1; i < seconds.size(); i++)
        if (seconds[i] * kMinSpeedup < seconds[0] && seconds[i] < seconds[fastest])
            fastest = i;
    choice.precision = timed[fastest];
    choice.net = nets[fastest];
    const double speedup = seconds[0] / seconds[fastest];
    char took_text[32];
    std::snprintf(took_text, sizeof(took_text), "%.2f s", took);
    if (fastest == 0) {
        std::string others;
        for (size_t i = 1; i < seconds.size(); i++)
            others += std::string(others.empty() ? "" : ", ") + precision_name(timed[i]) + " " +
                      ratio_text(seconds[0] / seconds[i]);
        choice.reason = measured ? others + " fp32 here, measured in " + took_text
                                 : std::string("another precision failed to run here");
    } else {
        choice.reason = ratio_text(speedup) + " fp32 here, measured in " + took_text;
    }
    choice.reason += skipped;
    if (measured && skipped.empty())
        cache.store(key, {precision_name(choice.precision), speedup});
    return choice;
}

} // namespace dsfn
