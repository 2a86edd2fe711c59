// The engine's memory model against what a pass really allocates: for networks
// of several widths, scales and precisions, the peak of LibTorch's large blocks
// during a level-2 pass (the block cache counts them) stays under the model's
// pass_bytes, and the model does not ask for more than three times that peak.
#include <torch/torch.h>

#include "engine/memory_model.h"
#include "memory/block_cache.h"
#include "memory/memory_policy.h"
#include "net/dsfn_net.h"
#include "tests.h"

namespace {

// Peak bytes a level-2 pass allocated beyond what was live before it, per input pixel.
double measured_pass_per_pixel(const dsfn::Architecture &arch, bool bf16, int64_t h, int64_t w)
{
    torch::manual_seed(1);
    dsfn::Network net(arch);
    net->eval();
    if (bf16)
        net->to(torch::kBFloat16);
    for (auto &p : net->parameters())
        if (p.dim() == 4)
            p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
    c10::InferenceMode guard;
    auto frame = [&] { return torch::rand({1, arch.colors, h, w}).contiguous(at::MemoryFormat::ChannelsLast); };
    const auto b0 = frame(), b1 = frame(), b2 = frame(), b3 = frame();
    const auto t1 = net->level1(b0, b1, b2), t2 = net->level1(b1, b2, b3);
    const size_t before = dsfn::block_cache_stats().live_bytes;
    dsfn::reset_block_cache_peak();
    const auto maps = net->level2(t1, t2);
    const size_t peak = dsfn::block_cache_stats().peak_live_bytes;
    return static_cast<double>(peak - before) / static_cast<double>(h * w);
}

} // namespace

START_TEST(test_pass_bytes_cover_measured_peaks)
{
    const dsfn::MemoryPolicy policy; // the block cache, which counts the blocks
    // 256x192: every activation of width 8 and up is a large block (1 MiB or more).
    const int64_t h = 192, w = 256;
    for (int64_t scale : {2, 4})
        for (int64_t width : {8, 16})
            for (bool bf16 : {false, true}) {
                dsfn::Architecture arch;
                arch.width = width;
                arch.scale = scale;
                const double measured = measured_pass_per_pixel(arch, bf16, h, w);
                const double model = dsfn::MemoryModel(arch, bf16 ? 2 : 4, 1).pass_per_pixel();
                ck_assert_msg(measured <= model && model <= 3 * measured,
                              "scale %d, width %d, %s: measured %.0f bytes per pixel, model %.0f", (int)scale,
                              (int)width, bf16 ? "bf16" : "fp32", measured, model);
            }
}
END_TEST

// The state the model keeps grows with the maps' channels: a scale-2 network
// keeps a quarter of a scale-4 one's maps, and a wider one no more state.
START_TEST(test_state_follows_the_scale)
{
    dsfn::Architecture a4, a2, wide;
    a2.scale = 2;
    wide.width = 128;
    const dsfn::MemoryModel m4(a4, 4, 1), m2(a2, 4, 1), mw(wide, 4, 1);
    ck_assert(m2.state_per_pixel() < 0.3 * m4.state_per_pixel());
    ck_assert(mw.state_per_pixel() == m4.state_per_pixel());
    ck_assert(mw.pass_per_pixel() > 1.5 * m4.pass_per_pixel());
    ck_assert(dsfn::MemoryModel(a4, 4, 4).pass_per_pixel() > m4.pass_per_pixel());
}
END_TEST

extern "C" Suite *memory_model_suite(void)
{
    Suite *s = suite_create("memory_model");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_pass_bytes_cover_measured_peaks);
    tcase_add_test(tc, test_state_follows_the_scale);
    suite_add_tcase(s, tc);
    return s;
}
