/*
 * Where the dsfn filter finds its model: a file the user names, or a shipped
 * model by name, looked up in the model directories.
 */
#ifndef DSFN_MODEL_PATH_H
#define DSFN_MODEL_PATH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shipped model used when the filter is given none. */
#define DSFN_DEFAULT_MODEL "dsfn-w16"

/*
 * Resolve `model` (NULL or "" for the default) into a file path in `path`:
 * an existing file, or a value with a '/', is used as it is; otherwise it is a
 * model name, looked up as NAME.dsfn (NAME itself when it ends in .dsfn) in
 * $DSFN_MODEL_DIR, then beside the binary that holds the filter (see below),
 * then in the configured prefix's share/vf_dsfn/models.
 * Returns 0, or a negative errno value (-ENOENT when no such model, with the
 * directories searched described in `err`).
 */
int dsfn_model_resolve(const char *model, char *path, size_t path_size, char *err, size_t err_size);

/*
 * The shipped models' directory for wherever the filter's binary is (ffmpeg, or
 * a shared libavfilter): PREFIX/share/vf_dsfn/models for PREFIX/bin/ffmpeg or
 * PREFIX/lib/libavfilter.so. An installed ffmpeg finds its models wherever it was
 * installed or moved, and a build folder holds BUILD/share/vf_dsfn/models.
 * Returns 0 or a negative errno value.
 */
int dsfn_model_dir_beside_binary(char *dir, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* DSFN_MODEL_PATH_H */
