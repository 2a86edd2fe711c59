#include "model_path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Set by the build: the install prefix's and the source tree's model directories. */
#ifndef DSFN_MODEL_INSTALL_DIR
#define DSFN_MODEL_INSTALL_DIR "/usr/local/share/vf_dsfn/models"
#endif
#ifndef DSFN_MODEL_SOURCE_DIR
#define DSFN_MODEL_SOURCE_DIR ""
#endif

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int has_suffix(const char *s, const char *suffix)
{
    const size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int copy_path(char *path, size_t size, const char *value)
{
    if (snprintf(path, size, "%s", value) >= (int)size)
        return -ENAMETOOLONG;
    return 0;
}

int dsfn_model_resolve(const char *model, char *path, size_t path_size, char *err, size_t err_size)
{
    const char *name = model && *model ? model : DSFN_DEFAULT_MODEL;
    const char *dirs[] = { getenv("DSFN_MODEL_DIR"), DSFN_MODEL_INSTALL_DIR, DSFN_MODEL_SOURCE_DIR };
    size_t used = 0;

    if (is_file(name) || strchr(name, '/'))
        return copy_path(path, path_size, name);

    if (err_size)
        err[0] = '\0';
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        if (snprintf(path, path_size, "%s/%s%s", dirs[i], name, has_suffix(name, ".dsfn") ? "" : ".dsfn") >=
            (int)path_size)
            continue;
        if (is_file(path))
            return 0;
        if (used < err_size)
            used += snprintf(err + used, err_size - used, "%s%s", used ? ", " : "", dirs[i]);
    }
    if (path_size)
        path[0] = '\0';
    return -ENOENT;
}
