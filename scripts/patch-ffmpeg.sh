#!/bin/sh
# Apply the patch set for this FFmpeg version to a source tree, once.
#   patch-ffmpeg.sh FFMPEG_SOURCE_DIR PATCH_DIR
set -eu
src=$1 patches=$2
if grep -q 'ff_vf_dsfn' "$src/libavfilter/allfilters.c"; then
    echo "patch-ffmpeg: $src already has the dsfn filter registered; not patching again"
    exit 0
fi
for p in "$patches"/*.patch; do
    echo "patch-ffmpeg: applying $(basename "$p")"
    patch -d "$src" -p1 --forward --batch < "$p" || {
        echo "patch-ffmpeg: $(basename "$p") does not apply to $src (is it FFmpeg $(basename "$patches" | sed 's/ffmpeg-//')?)" >&2
        exit 1
    }
done
