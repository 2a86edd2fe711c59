#!/bin/sh
# Fetch the evaluation clips (real footage shipped in Debian packages, see
# shared/DATA.md) into CACHE_DIR/clips. None of them is ever used for training.
#   fetch-eval-clips.sh CACHE_DIR
set -eu
cache=$1
top=$(cd "$(dirname "$0")/.." && pwd)
clips=$cache/clips
mkdir -p "$clips" "$cache/debs"

# python3-mecavideo: balle1-vp9.avi (true ~187 fps) and balle-jbart.mp4 (25 fps)
if [ ! -f "$clips/balle1-vp9.avi" ] || [ ! -f "$clips/balle-jbart.mp4" ]; then
    [ -n "$(ls "$cache"/debs/python3-mecavideo_*.deb 2>/dev/null)" ] ||
        (cd "$cache/debs" && apt-get download python3-mecavideo >&2)
    rm -rf "$cache/mecavideo"
    dpkg-deb -x "$(ls "$cache"/debs/python3-mecavideo_*.deb | head -n 1)" "$cache/mecavideo"
    cp "$cache/mecavideo/usr/share/pymecavideo/data/video/balle1-vp9.avi" \
       "$cache/mecavideo/usr/share/pymecavideo/data/video/balle-jbart.mp4" "$clips/"
fi

# libopenshot's source (bookworm): examples/test.avi, a handheld pan at 30 fps
if [ ! -f "$clips/openshot-test.avi" ] || [ ! -f "$clips/openshot-run.mp4" ]; then
    . "$top/scripts/private-apt.sh"
    private_apt_setup "$cache/apt-bookworm-src" bookworm deb-src
    mkdir -p "$cache/src"
    if [ -z "$(ls "$cache"/src/libopenshot_*.orig.tar.* 2>/dev/null)" ]; then
        # shellcheck disable=SC2086
        apt-get $aptopts -q update >&2
        # shellcheck disable=SC2086
        (cd "$cache/src" && apt-get $aptopts -o APT::Get::Only-Source=true -q source --download-only libopenshot >&2)
    fi
    tar -xf "$(ls "$cache"/src/libopenshot_*.orig.tar.* | head -n 1)" -C "$cache/src" --wildcards \
        '*/examples/test.avi' '*/examples/run.mp4'
    cp "$(find "$cache/src" -path '*/examples/test.avi' | head -n 1)" "$clips/openshot-test.avi"
    # Not an evaluation clip: the source of samples/ (scripts/make-sample.sh).
    cp "$(find "$cache/src" -path '*/examples/run.mp4' | head -n 1)" "$clips/openshot-run.mp4"
fi
ls "$clips"
