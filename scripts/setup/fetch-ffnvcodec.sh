#!/bin/sh
# FFmpeg's headers for NVIDIA's libraries (nv-codec-headers, Debian's
# libffmpeg-nvenc-dev): with them FFmpeg builds its CUDA hwcontext (and so dsfn's
# CUDA frames), hwupload_cuda, NVDEC and NVENC, which load the driver's libraries
# at run time, so any machine builds them. Debian 12's version is older than
# FFmpeg 7.1-9.0 accept: trixie's is fetched, with a private apt configuration.
#   fetch-ffnvcodec.sh CACHE_DIR PC_DIR FFMPEG_OBJ_DIR
# Writes PC_DIR/ffnvcodec.pc, its paths spelt out (scripts/setup/pkg-config-lite.sh
# reads no variables), for headers unpacked in the cache. A cache inside the
# working tree (the accelerator run's) is named relative to FFMPEG_OBJ_DIR, where
# FFmpeg compiles: an absolute path there would differ in every clone and make
# every FFmpeg file a ccache miss. The .deb is fetched once into
# CACHE_DIR/apt-trixie-bin/archives (the accelerator run puts the pack's there).
set -eu
cache=$1 pcdir=$2 objdir=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
aptdir=$cache/apt-trixie-bin
mkdir -p "$cache"
# One at a time per cache (CI packs the accelerator run's files while make check
# builds): the lock is held until this script exits.
if command -v flock > /dev/null; then
    exec 8> "$cache/.ffnvcodec.lock"
    flock 8
fi
deb=$(ls "$aptdir"/archives/libffmpeg-nvenc-dev_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$deb" ]; then
    . "$top/scripts/setup/private-apt.sh"
    private_apt_setup "$aptdir" trixie deb
    # shellcheck disable=SC2086
    apt-get $aptopts -q update >&2
    (cd "$aptdir/archives" && apt-get $aptopts -q download libffmpeg-nvenc-dev >&2)
    deb=$(ls "$aptdir"/archives/libffmpeg-nvenc-dev_*.deb | sort -V | tail -n 1)
fi
version=$(dpkg-deb -f "$deb" Version)
root=$(cd "$cache" && pwd)/ffnvcodec-$version
if [ ! -f "$root/.done" ]; then
    # Unpack beside, then rename: an interrupted unpack is never taken for a whole one.
    rm -rf "$root" "$root.tmp"
    dpkg-deb -x "$deb" "$root.tmp"
    touch "$root.tmp/.done"
    mv "$root.tmp" "$root"
fi
pc=$(find "$root" -name ffnvcodec.pc | head -n 1)
[ -n "$pc" ] || { echo "fetch-ffnvcodec: $deb holds no ffnvcodec.pc" >&2; exit 1; }
mkdir -p "$pcdir"
{
    echo "Name: ffnvcodec"
    echo "Description: $(sed -n 's/^Description: //p' "$pc")"
    echo "Version: $(sed -n 's/^Version: //p' "$pc")"
    case $root in
    "$(pwd)"/*) mkdir -p "$objdir"; echo "Cflags: -I$(realpath --relative-to="$objdir" "$root/usr/include")" ;;
    *) echo "Cflags: -I$root/usr/include" ;;
    esac
} > "$pcdir/ffnvcodec.pc.new"
mv "$pcdir/ffnvcodec.pc.new" "$pcdir/ffnvcodec.pc"
