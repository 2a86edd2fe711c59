#!/bin/sh
# Fetch the Debian source package of FFmpeg into a cache and unpack it.
#
#   fetch-ffmpeg-source.sh SUITE VERSION_PREFIX CACHE_DIR DEST_DIR
#
# apt-get source runs with a private configuration (own sources file, lists,
# cache and state) derived from the mirrors the system already uses, so the
# system's apt setup is left untouched and no mirror is named here.
set -eu

suite=$1 want=$2 cache=$3 dest=$4
case $dest in /*) ;; *) dest=$(pwd)/$dest ;; esac

aptdir=$cache/apt-$suite
mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/src"

# Mirror URIs the system already uses for Debian itself (deb822 and one-line formats).
uris=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p';
          cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
              sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p'; } |
        tr ' ' '\n' | grep -E '/debian/?$' | sort -u)
[ -n "$uris" ] || { echo "fetch-ffmpeg-source: no Debian mirror found in the system's apt sources" >&2; exit 1; }

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
: > "$aptdir/sources.list"
for u in $uris; do
    echo "deb-src [signed-by=$keyring] $u $suite main" >> "$aptdir/sources.list"
done

aptopts="-o Dir::Etc::SourceList=$aptdir/sources.list -o Dir::Etc::SourceParts=/dev/null
         -o Dir::State=$aptdir -o Dir::State::Lists=$aptdir/lists
         -o Dir::Cache=$aptdir -o Dir::Cache::Archives=$aptdir/archives
         -o Dir::State::status=/var/lib/dpkg/status -o APT::Get::Only-Source=true
         -o APT::Sandbox::User=root"

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
    apt-get $aptopts -q source --download-only "ffmpeg=$ver" >&2
fi

rm -rf "$dest.tmp"
dsc=$(ls ffmpeg_"$want".*.dsc | sort -V | tail -n 1)
# apt-get has already verified the signed index and these files' checksums.
dpkg-source --no-check -x "$dsc" "$dest.tmp" >&2
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch-ffmpeg-source: $dsc unpacked into $dest"
