// DeviceStream on the CPU: every GPU step is a no-op, so the engine's one code
// path serves both (on a GPU the same calls queue on the engine's own stream).
#include "engine/device_stream.h"
#include "tests.h"

START_TEST(test_cpu_is_a_no_op)
{
    dsfn::DeviceStream place(torch::Device("cpu"));
    ck_assert(!place.on_gpu());
    ck_assert(place.device().is_cpu());
    {
        const auto guard = place.enter();
        ck_assert(place.device().is_cpu());
        auto host = place.host_tensor({2, 3}, torch::kUInt8);
        ck_assert(host.device().is_cpu());
        ck_assert_int_eq(host.numel(), 6);
        place.synchronize();
    }
    ck_assert_msg(place.free_bytes() < 0, "free device memory known on the CPU");
}
END_TEST

extern "C" Suite *device_stream_suite(void)
{
    Suite *s = suite_create("device_stream");
    TCase *tc = tcase_create("cpu");
    tcase_add_test(tc, test_cpu_is_a_no_op);
    suite_add_tcase(s, tc);
    return s;
}
