#!/bin/sh
# Fetch the evaluation clips (real footage shipped in Debian packages, see
# docs/DATA.md) into CACHE_DIR/clips. None of them is ever used for training.
#   fetch-eval-clips.sh CACHE_DIR
set -eu
cache=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
clips=$cache/clips
mkdir -p "$clips"
. "$top/scripts/setup/private-apt.sh"

# python3-mecavideo: balle1-vp9.avi (true ~187 fps) and balle-jbart.mp4 (25 fps)
if [ ! -f "$clips/balle1-vp9.avi" ] || [ ! -f "$clips/balle-jbart.mp4" ]; then
    tree=$(package_tree "$cache" python3-mecavideo)
    cp "$tree/usr/share/pymecavideo/data/video/balle1-vp9.avi" \
       "$tree/usr/share/pymecavideo/data/video/balle-jbart.mp4" "$clips/"
fi

# libopenshot's source (bookworm): examples/test.avi, a handheld pan at 30 fps
if [ ! -f "$clips/openshot-test.avi" ] || [ ! -f "$clips/openshot-run.mp4" ]; then
    tarball=$(bookworm_source "$cache" libopenshot)
    tar -xf "$tarball" -C "$cache/src" --wildcards \
        '*/examples/test.avi' '*/examples/run.mp4'
    cp "$(find "$cache/src" -path '*/examples/test.avi' | head -n 1)" "$clips/openshot-test.avi"
    # Not an evaluation clip: the source of samples/ (scripts/demo/make-sample.sh).
    cp "$(find "$cache/src" -path '*/examples/run.mp4' | head -n 1)" "$clips/openshot-run.mp4"
fi
ls "$clips"
