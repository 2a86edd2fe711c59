/* Check suites of the vf_dsfn unit tests. */
#ifndef DSFN_TESTS_H
#define DSFN_TESTS_H

#include <check.h>

#ifdef __cplusplus
extern "C" {
#endif

Suite *window_suite(void);
Suite *timeline_suite(void);
Suite *engine_suite(void);
Suite *model_suite(void);
Suite *weights_suite(void);
Suite *training_suite(void);
Suite *model_path_suite(void);
Suite *block_cache_suite(void);
Suite *device_stream_suite(void);
Suite *core_share_suite(void);
Suite *memory_model_suite(void);
Suite *recipe_suite(void);
Suite *precision_suite(void);
Suite *int8_suite(void);
Suite *yuv_picture_suite(void);

/* Fixtures (fixtures.cpp): random-weights model files in the working directory. */
const char *fixture_model(int width);             /* path, created on first use */
int fixture_write_bytes(const char *path, const void *data, size_t size);
/* Copy of a fixture file with its bytes changed by `edit`, checksum fixed up. */
const char *fixture_edited_model(const char *name, void (*edit)(unsigned char *bytes, size_t size));

#ifdef __cplusplus
}
#endif

#endif
