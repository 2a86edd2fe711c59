#!/bin/sh
# Fetch the Debian source package of an FFmpeg release into a cache and unpack it.
#
#   fetch-ffmpeg-source.sh RELEASE CACHE_DIR DEST_DIR
#
# RELEASE is the upstream release (7.1, 8.1, 9.0); the newest Debian version of it
# is taken. DEST_DIR '-' only fetches and prints the upstream tarball's path.
# apt-get source runs with a private configuration (scripts/setup/private-apt.sh).
set -eu

want=$1 cache=$2 dest=$3
case $dest in /*|-) ;; *) dest=$(pwd)/$dest ;; esac
# Debian's suite holding each release: stable has 7.1, unstable the newer ones.
case $want in
    7.1) suite=trixie ;;
    *)   suite=sid ;;
esac

aptdir=$cache/apt-$suite
. "$(dirname "$0")/private-apt.sh"
private_apt_setup "$aptdir" "$suite" deb-src
mkdir -p "$aptdir/src"

cd "$aptdir/src"
# Fetch once; later runs (and offline rebuilds) unpack the cached package.
if [ -z "$(ls ffmpeg_"$want".*.orig.tar.* 2>/dev/null | grep -v '\.asc$')" ]; then
    # shellcheck disable=SC2086
    apt-get $aptopts -q update >&2
    # A suite may list several releases at once (sid has held 7.1, 8.1 and 9.0):
    # take the newest version of the wanted one.
    # shellcheck disable=SC2086
    all=$(apt-cache $aptopts showsrc ffmpeg | sed -n 's/^Version: //p')
    ver=$(echo "$all" | grep -E "^([0-9]+:)?$(echo "$want" | sed 's/\./\\./g')\." | sort -V | tail -n 1)
    if [ -z "$ver" ]; then
        echo "fetch-ffmpeg-source: $suite has no ffmpeg $want.x (it has: $(echo $all))" >&2
        exit 1
    fi
    # The upstream tarball is what the build needs. apt-get checks each file it
    # fetches against the signed index, so when the mirror lacks the package's
    # Debian part (its .dsc or .debian.tar) the tarball alone is still verified.
    # shellcheck disable=SC2086
    apt-get $aptopts -o APT::Get::Only-Source=true -q source --download-only "ffmpeg=$ver" >&2 ||
        echo "fetch-ffmpeg-source: the Debian part of ffmpeg $ver is missing; using the upstream tarball" >&2
fi

orig=$(ls ffmpeg_"$want".*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | sort -V | tail -n 1)
if [ -z "$orig" ]; then
    echo "fetch-ffmpeg-source: could not fetch ffmpeg $want from $suite (see above)" >&2
    exit 1
fi
[ "$dest" = - ] && { echo "$aptdir/src/$orig"; exit 0; }
rm -rf "$dest.tmp"
# dpkg-source copies the tarballs next to the tree: the parent must exist (fresh clone).
mkdir -p "$(dirname "$dest")"
dsc=$(ls "${orig%%.orig.tar.*}"-*.dsc 2>/dev/null | sort -V | tail -n 1)
if [ -n "$dsc" ] && [ -n "$(ls "${dsc%.dsc}".debian.tar.* 2>/dev/null)" ]; then
    # apt-get has already verified the signed index and these files' checksums.
    dpkg-source --no-check -x "$dsc" "$dest.tmp" >&2
    from=$dsc
else
    mkdir -p "$dest.tmp"
    tar -xf "$orig" -C "$dest.tmp" --strip-components=1
    from=$orig
fi
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch-ffmpeg-source: $from unpacked into $dest"
