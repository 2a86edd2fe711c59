/* dladdr is a GNU extension. */
#define _GNU_SOURCE
#include "dsfn/model_path.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set by the build: the configured prefix's model directory. */
#ifndef DSFN_MODEL_INSTALL_DIR
#define DSFN_MODEL_INSTALL_DIR "/usr/local/share/vf_dsfn/models"
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

int dsfn_model_dir_beside_binary(char *dir, size_t size)
{
    char file[PATH_MAX], real[PATH_MAX];
    Dl_info info;
    char *slash;

    /* The file holding this code: ffmpeg itself, or a shared libavfilter. For the
     * main program dladdr may give the name it was started by, so that is
     * read from /proc unless it is a path. */
    if (dladdr((void *)&dsfn_model_dir_beside_binary, &info) && info.dli_fname && strchr(info.dli_fname, '/') &&
        realpath(info.dli_fname, real)) {
        ;
    } else {
        const ssize_t n = readlink("/proc/self/exe", file, sizeof(file) - 1);
        if (n <= 0)
            return -ENOENT;
        file[n] = '\0';
        if (!realpath(file, real))
            return -errno;
    }
    slash = strrchr(real, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0'; /* its folder: PREFIX/bin or PREFIX/lib */
    slash = strrchr(real, '/');
    if (slash)
        *slash = '\0';
    if (snprintf(dir, size, "%s/share/vf_dsfn/models", slash && real[0] ? real : "") >= (int)size)
        return -ENAMETOOLONG;
    return 0;
}

int dsfn_model_resolve(const char *model, char *path, size_t path_size, char *err, size_t err_size)
{
    const char *name = model && *model ? model : DSFN_DEFAULT_MODEL;
    char beside[PATH_MAX];
    const char *dirs[] = { getenv("DSFN_MODEL_DIR"),
                           dsfn_model_dir_beside_binary(beside, sizeof(beside)) ? NULL : beside,
                           DSFN_MODEL_INSTALL_DIR };
    size_t used = 0;

    if (is_file(name) || strchr(name, '/'))
        return copy_path(path, path_size, name);

    if (err_size)
        err[0] = '\0';
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        if (!dirs[i] || !*dirs[i] || (i == 2 && dirs[1] && !strcmp(dirs[1], dirs[2])))
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
