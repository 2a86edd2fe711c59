// precision=auto: the precisions a recipe vouches for, the measurement cache (a
// bad line is measured again, never an error), and the choice itself, measured
// and then read back, with the network prepared in the precision it names.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "dsfn/engine.h"
#include "engine/precision_cache.h"
#include "engine/precision_choice.h"
#include "tests.h"

namespace fs = std::filesystem;

namespace {

// A copy of the width-4 fixture in a folder of its own, with this recipe beside
// it (none when empty), so the shared fixture keeps having none.
std::string model_with_recipe(const std::string &folder, const std::string &recipe)
{
    fs::remove_all(folder);
    fs::create_directories(folder);
    const std::string path = folder + "/m.dsfn";
    fs::copy_file(fixture_model(4), path);
    if (!recipe.empty())
        std::ofstream(path + ".recipe") << recipe;
    return path;
}

// XDG_CACHE_HOME set for a scope, and put back as it was.
class CacheHome {
public:
    explicit CacheHome(const std::string &value) : had_(std::getenv("XDG_CACHE_HOME") != nullptr)
    {
        if (had_)
            saved_ = std::getenv("XDG_CACHE_HOME");
        setenv("XDG_CACHE_HOME", value.c_str(), 1);
    }
    ~CacheHome()
    {
        if (had_)
            setenv("XDG_CACHE_HOME", saved_.c_str(), 1);
        else
            unsetenv("XDG_CACHE_HOME");
    }
    CacheHome(const CacheHome &) = delete;
    CacheHome &operator=(const CacheHome &) = delete;

private:
    bool had_;
    std::string saved_;
};

void write_text(const std::string &path, const std::string &text)
{
    std::ofstream(path) << text;
}

std::string read_text(const std::string &path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

START_TEST(test_evaluated_precisions)
{
    using V = std::vector<int>;
    const V fp32{DSFN_PRECISION_FP32};
    ck_assert(dsfn::evaluated_precisions(model_with_recipe("prec-none", ""), false) == fp32);
    ck_assert(dsfn::evaluated_precisions(model_with_recipe("prec-none", "width: 4\n"), false) == fp32);
    // Unknown names (a later engine's) are skipped; fp16 only where it can run.
    const auto path = model_with_recipe("prec-some", "# x\nprecisions: bf16 int4 int8 auto fp16 bf16\n");
    ck_assert(dsfn::evaluated_precisions(path, false) ==
              (V{DSFN_PRECISION_FP32, DSFN_PRECISION_BF16, DSFN_PRECISION_INT8}));
    ck_assert(dsfn::evaluated_precisions(path, true) ==
              (V{DSFN_PRECISION_FP32, DSFN_PRECISION_BF16, DSFN_PRECISION_FP16}));
    fs::remove_all("prec-none");
    fs::remove_all("prec-some");
}
END_TEST

START_TEST(test_cache_lines)
{
    fs::remove_all("prec-cache");
    const dsfn::PrecisionCache cache("prec-cache/sub/precision-auto"); // folders made on store
    ck_assert(!cache.find("a"));
    ck_assert(cache.store("a", {"bf16", 1.8}));
    ck_assert(cache.store("b", {"fp32", 1.0}));
    ck_assert(cache.store("a", {"fp32", 1.0})); // replaces a's line
    auto a = cache.find("a");
    ck_assert(a && a->precision == "fp32" && a->speedup == 1.0);
    ck_assert(read_text(cache.path()) == "b\tfp32\t1.000\na\tfp32\t1.000\n");

    // Lines that do not parse are skipped, and dropped at the next store.
    write_text(cache.path(), "a\tbf16\n\tbf16\t2\na\tbf16\tx\na\tbf16\t-1\na\tbf16\t2\textra\n\x01\xff\n"
                             "c\tbf16\t1.5\n");
    ck_assert(!cache.find("a"));
    ck_assert(cache.find("c") && cache.find("c")->speedup == 1.5);
    ck_assert(cache.store("a", {"bf16", 2}));
    ck_assert(read_text(cache.path()) == "c\tbf16\t1.5\na\tbf16\t2.000\n");

    // Tabs and line breaks in a key cannot make a second line.
    ck_assert(cache.store("x\ty\nz", {"bf16", 1.2}));
    ck_assert(cache.find("x\ty\nz") && cache.find("x y z"));

    // Only the newest lines are kept.
    for (int i = 0; i < 100; i++)
        ck_assert(cache.store("k" + std::to_string(i), {"fp32", 1}));
    ck_assert(cache.find("k99") && !cache.find("k0") && !cache.find("a"));

    // Where nothing can be written, nothing is, and nothing throws.
    ck_assert(!dsfn::PrecisionCache("/proc/no-such/precision-auto").store("a", {"bf16", 2}));
    ck_assert(!dsfn::PrecisionCache("").store("a", {"bf16", 2}));
    ck_assert(!dsfn::PrecisionCache("").find("a"));
    fs::remove_all("prec-cache");

    // The key names this machine and this LibTorch.
    const std::string key = dsfn::machine_key();
    ck_assert(key.rfind("cpu ", 0) == 0 && key.find(" flags ") != std::string::npos &&
              key.find(" libtorch ") != std::string::npos);
}
END_TEST

START_TEST(test_default_path)
{
    const CacheHome home("/somewhere");
    ck_assert(dsfn::PrecisionCache::default_path() == "/somewhere/vf_dsfn/precision-auto");
    setenv("XDG_CACHE_HOME", "relative", 1); // not absolute: ignored, as the XDG spec says
    ck_assert(dsfn::PrecisionCache::default_path().find("/.cache/vf_dsfn/precision-auto") != std::string::npos ||
              dsfn::PrecisionCache::default_path().empty());
}
END_TEST

torch::ScalarType conv_type(const dsfn::Network &net)
{
    return net->parameters()[0].scalar_type();
}

START_TEST(test_choice_measured_then_cached)
{
    const dsfn::DeviceStream cpu(torch::Device("cpu"));
    const std::string cache = "prec-choice/cache";

    // No recipe: fp32, nothing measured, nothing cached.
    auto plain = dsfn::choose_precision(model_with_recipe("prec-choice", ""), cpu, cache);
    ck_assert_int_eq(plain.precision, DSFN_PRECISION_FP32);
    ck_assert(plain.reason.find("recipe names no other precision") != std::string::npos);
    ck_assert(conv_type(plain.net) == torch::kFloat);
    ck_assert(!fs::exists(cache));

    const auto path = model_with_recipe("prec-choice", "precisions: fp32 bf16\n");
    auto first = dsfn::choose_precision(path, cpu, cache);
    ck_assert(first.precision == DSFN_PRECISION_FP32 || first.precision == DSFN_PRECISION_BF16);
    ck_assert_msg(first.reason.find("fp32 here, measured in ") != std::string::npos, "%s", first.reason.c_str());
    ck_assert(conv_type(first.net) == (first.precision == DSFN_PRECISION_BF16 ? torch::kBFloat16 : torch::kFloat));
    ck_assert(first.net->architecture().width == 4);

    auto again = dsfn::choose_precision(path, cpu, cache);
    ck_assert_int_eq(again.precision, first.precision);
    ck_assert_msg(again.reason.find("as measured before (" + cache + ")") != std::string::npos, "%s",
                  again.reason.c_str());
    ck_assert(conv_type(again.net) == conv_type(first.net));

    // A cached answer that is not among the model's precisions is measured again.
    const std::string text = read_text(cache);
    const size_t tab = text.find('\t');
    write_text(cache, text.substr(0, tab) + "\tfp16\t3.0\n");
    auto remeasured = dsfn::choose_precision(path, cpu, cache);
    ck_assert(remeasured.reason.find("measured in ") != std::string::npos);
    ck_assert(read_text(cache).find("\tfp16\t") == std::string::npos);
    fs::remove_all("prec-choice");
}
END_TEST

START_TEST(test_timing)
{
    const dsfn::DeviceStream cpu(torch::Device("cpu"));
    const auto path = model_with_recipe("prec-timing", "");
    const auto a = dsfn::choose_precision(path, cpu, "").net;
    const auto seconds = dsfn::time_level1({a, a}, cpu, 16, 2);
    ck_assert_int_eq(seconds.size(), 2);
    ck_assert(seconds[0] > 0 && seconds[0] < 60 && seconds[1] > 0 && seconds[1] < 60);
    fs::remove_all("prec-timing");
}
END_TEST

// Through the C API: auto is the default, the engine says what it runs and why,
// and a precision that is given is run as given, without a reason.
START_TEST(test_engine_precision)
{
    const auto path = model_with_recipe("prec-engine", "precisions: fp32 bf16\n");
    const CacheHome home(fs::current_path() / "prec-engine" / "cache");

    DSFNEngineConfig cfg = dsfn_engine_default_config();
    ck_assert_int_eq(cfg.precision, DSFN_PRECISION_AUTO);
    cfg.model_path = path.c_str();
    cfg.threads = 1;
    cfg.adapt_threads = 0;
    DSFNEngine *engine = nullptr;
    char err[256];
    ck_assert_int_eq(dsfn_engine_create(&engine, &cfg, err, sizeof(err)), 0);
    const char *why = nullptr;
    const int chosen = dsfn_engine_precision(engine, &why);
    ck_assert(chosen == DSFN_PRECISION_FP32 || chosen == DSFN_PRECISION_BF16);
    ck_assert(why && std::string(why).find("measured in") != std::string::npos);
    dsfn_engine_free(&engine);
    ck_assert(fs::exists("prec-engine/cache/vf_dsfn/precision-auto"));

    cfg.precision = DSFN_PRECISION_BF16;
    ck_assert_int_eq(dsfn_engine_create(&engine, &cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(dsfn_engine_precision(engine, &why), DSFN_PRECISION_BF16);
    ck_assert_str_eq(why, "");
    ck_assert_int_eq(dsfn_engine_precision(engine, nullptr), DSFN_PRECISION_BF16);
    dsfn_engine_free(&engine);

    cfg.precision = DSFN_PRECISION_INT8 + 1;
    ck_assert_int_lt(dsfn_engine_create(&engine, &cfg, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "unknown precision"));
    fs::remove_all("prec-engine");
}
END_TEST

} // namespace

extern "C" Suite *precision_suite(void)
{
    Suite *s = suite_create("precision");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_evaluated_precisions);
    tcase_add_test(tc, test_cache_lines);
    tcase_add_test(tc, test_default_path);
    tcase_add_test(tc, test_choice_measured_then_cached);
    tcase_add_test(tc, test_timing);
    tcase_add_test(tc, test_engine_precision);
    suite_add_tcase(s, tc);
    return s;
}
