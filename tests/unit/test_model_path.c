/* Model lookup: files as given, shipped names in the model directories. */
/* setenv and unsetenv are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dsfn/model_path.h"
#include "tests.h"

START_TEST(test_files_as_given)
{
    char path[256], err[256];

    fixture_write_bytes("here.bin", "x", 1);
    ck_assert_int_eq(dsfn_model_resolve("here.bin", path, sizeof(path), err, sizeof(err)), 0);
    ck_assert_str_eq(path, "here.bin");
    /* A path is a path, found or not: the loader names what is wrong with it. */
    ck_assert_int_eq(dsfn_model_resolve("no/such.dsfn", path, sizeof(path), err, sizeof(err)), 0);
    ck_assert_str_eq(path, "no/such.dsfn");
    ck_assert_int_eq(dsfn_model_resolve("a/very/long/path", path, 8, err, sizeof(err)), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_names)
{
    char path[256], err[256];

    mkdir("models-a", 0755);
    fixture_write_bytes("models-a/tiny.dsfn", "x", 1);
    setenv("DSFN_MODEL_DIR", "models-a", 1);
    ck_assert_int_eq(dsfn_model_resolve("tiny", path, sizeof(path), err, sizeof(err)), 0);
    ck_assert_str_eq(path, "models-a/tiny.dsfn");
    /* The file's own name is a name too. */
    ck_assert_int_eq(dsfn_model_resolve("tiny.dsfn", path, sizeof(path), err, sizeof(err)), 0);
    ck_assert_str_eq(path, "models-a/tiny.dsfn");

    ck_assert_int_eq(dsfn_model_resolve("absent", path, sizeof(path), err, sizeof(err)), -ENOENT);
    ck_assert_msg(strstr(err, "models-a") != NULL, "searched directories not named: %s", err);
    ck_assert_str_eq(path, "");
    unsetenv("DSFN_MODEL_DIR");
}
END_TEST

START_TEST(test_default_is_shipped)
{
    char path[4096], err[1024];

    /* The build folder holds the shipped models beside its binaries. */
    unsetenv("DSFN_MODEL_DIR");
    ck_assert_int_eq(dsfn_model_resolve(NULL, path, sizeof(path), err, sizeof(err)), 0);
    ck_assert_msg(strstr(path, "/" DSFN_DEFAULT_MODEL ".dsfn") != NULL, "default resolved to %s", path);
    ck_assert_int_eq(dsfn_model_resolve("", path, sizeof(path), err, sizeof(err)), 0);
    ck_assert_msg(strstr(path, "/share/vf_dsfn/models/") != NULL, "default resolved to %s", path);

    /* BUILD/tests/unit-tests: BUILD/share/vf_dsfn/models. */
    char dir[4096];
    ck_assert_int_eq(dsfn_model_dir_beside_binary(dir, sizeof(dir)), 0);
    const size_t n = strlen(dir), m = strlen("/share/vf_dsfn/models");
    ck_assert_msg(n > m && !strcmp(dir + n - m, "/share/vf_dsfn/models"), "%s", dir);
    ck_assert_int_eq(dsfn_model_dir_beside_binary(dir, 8), -ENAMETOOLONG);
}
END_TEST

Suite *model_path_suite(void)
{
    Suite *s = suite_create("model_path");
    TCase *tc = tcase_create("lookup");
    tcase_add_test(tc, test_files_as_given);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_default_is_shipped);
    suite_add_tcase(s, tc);
    return s;
}
