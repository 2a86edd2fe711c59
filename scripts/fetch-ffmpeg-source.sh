#!/bin/sh
# Fetch the Debian source package of FFmpeg into a cache and unpack it.
#
#   fetch-ffmpeg-source.sh SUITE VERSION_PREFIX CACHE_DIR DEST_DIR
#
# apt-get source runs with a private configuration (scripts/private-apt.sh).
set -eu

suite=$1 want=$2 cache=$3 dest=$4
case $dest in /*) ;; *) dest=$(pwd)/$dest ;; esac

aptdir=$cache/apt-$suite
. "$(dirname "$0")/private-apt.sh"
private_apt_setup "$aptdir" "$suite" deb-src
mkdir -p "$aptdir/src"

cd "$aptdir/src"
# Fetch once; later runs (and offline rebuilds) unpack the cached package.
if [ -z "$(ls ffmpeg_"$want".*.dsc 2>/dev/null)" ]; then
    # shellcheck disable=SC2086
    apt-get $aptopts -q update >&2
    # shellcheck disable=SC2086
    ver=$(apt-cache $aptopts showsrc ffmpeg | sed -n 's/^Version: //p' | head -n 1)
    case $ver in
        *:"$want".*) ;;
        *) echo "fetch-ffmpeg-source: $suite has ffmpeg '$ver', expected $want.x" >&2; exit 1 ;;
    esac
    # shellcheck disable=SC2086
    apt-get $aptopts -o APT::Get::Only-Source=true -q source --download-only "ffmpeg=$ver" >&2
fi

rm -rf "$dest.tmp"
# dpkg-source copies the tarballs next to the tree: the parent must exist (fresh clone).
mkdir -p "$(dirname "$dest")"
dsc=$(ls ffmpeg_"$want".*.dsc | sort -V | tail -n 1)
# apt-get has already verified the signed index and these files' checksums.
dpkg-source --no-check -x "$dsc" "$dest.tmp" >&2
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch-ffmpeg-source: $dsc unpacked into $dest"
