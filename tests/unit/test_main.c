/* Runs every unit suite; exit status 0 only when all pass. */
#include <stdlib.h>

#include "tests.h"

int main(void)
{
    SRunner *sr = srunner_create(window_suite());
    int failed;

    srunner_add_suite(sr, timeline_suite());
    srunner_add_suite(sr, weights_suite());
    srunner_add_suite(sr, model_suite());
    srunner_add_suite(sr, engine_suite());
    srunner_add_suite(sr, training_suite());
    srunner_add_suite(sr, model_path_suite());
    srunner_add_suite(sr, block_cache_suite());
    srunner_add_suite(sr, device_stream_suite());
    srunner_add_suite(sr, core_share_suite());
    srunner_add_suite(sr, memory_model_suite());
    srunner_add_suite(sr, recipe_suite());
    srunner_add_suite(sr, precision_suite());
    srunner_add_suite(sr, int8_suite());
    srunner_add_suite(sr, yuv_picture_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
