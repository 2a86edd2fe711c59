#!/bin/sh
# What the accelerator run needs that is not in git, packed into one folder that
# a `device` run carries (inside its 64 MiB): the FFmpeg source tarball, FFmpeg's
# CUDA headers and the training data's original files, as Debian's packages hold them.
#   accelerator-pack.sh CACHE_DIR PACK_DIR
# PACK_DIR/ffmpeg_*.orig.tar.xz, PACK_DIR/libffmpeg-nvenc-dev_*.deb (FFmpeg's CUDA
# headers), PACK_DIR/photos/PACKAGE/PATH, PACK_DIR/clips/PACKAGE/PATH;
# scripts/accelerator/accelerator-run.sh converts them as `make train` does.
set -eu
cache=$1 pack=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
# A pack from before the CUDA headers were in it is made again.
[ -f "$pack/.done" ] && ls "$pack"/libffmpeg-nvenc-dev_*.deb > /dev/null 2>&1 &&
    { echo "accelerator-pack: $pack is complete"; exit 0; }
rm -rf "$pack"
mkdir -p "$pack.tmp"
# FFmpeg 7.1: CI's rehearsal of this run is its build of that release (Makefile).
tarball=$("$top/scripts/setup/fetch-ffmpeg-source.sh" 7.1 "$cache" -)
cp "$tarball" "$pack.tmp/"
"$top/scripts/setup/fetch-ffnvcodec.sh" "$cache" "$pack.tmp/pc" "$pack.tmp/obj"
cp "$(ls "$cache"/apt-trixie-bin/archives/libffmpeg-nvenc-dev_*.deb | sort -V | tail -n 1)" "$pack.tmp/"
rm -rf "$pack.tmp/pc" "$pack.tmp/obj"
"$top/scripts/train/fetch-training-photos.sh" --copy-sources-to "$pack.tmp/photos" "$cache/train" -
"$top/scripts/train/fetch-training-clips.sh" --copy-sources-to "$pack.tmp/clips" "$cache/train" -
touch "$pack.tmp/.done"
mv "$pack.tmp" "$pack"
echo "accelerator-pack: $(du -sh "$pack" | cut -f1) in $pack"
