#!/bin/sh
# Apply the patch set for this FFmpeg version to a source tree; a patch already
# in the tree (an earlier run, or a tree patched by hand) is left as it is.
#   patch-ffmpeg.sh FFMPEG_SOURCE_DIR PATCH_DIR
set -eu
src=$1 patches=$2
for p in "$patches"/*.patch; do
    if patch -d "$src" -p1 --reverse --dry-run --force --silent < "$p" > /dev/null 2>&1; then
        echo "patch-ffmpeg: $(basename "$p") is already applied"
        continue
    fi
    echo "patch-ffmpeg: applying $(basename "$p")"
    patch -d "$src" -p1 --forward --batch < "$p" || {
        echo "patch-ffmpeg: $(basename "$p") does not apply to $src (is it FFmpeg $(basename "$patches" | sed 's/ffmpeg//')?)" >&2
        exit 1
    }
done
