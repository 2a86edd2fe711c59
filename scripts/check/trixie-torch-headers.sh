#!/bin/sh
# Compile-check every C++ source against LibTorch 2.x headers (Debian trixie's
# libtorch-dev), so code written on Debian 12's 1.13 keeps building with 2.x.
#   trixie-torch-headers.sh CACHE_DIR
set -eu
cache=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
aptdir=$cache/apt-trixie-bin
. "$top/scripts/setup/private-apt.sh"
private_apt_setup "$aptdir" trixie deb
root=$aptdir/libtorch-dev
if [ ! -d "$root/usr/include/torch" ]; then
    # shellcheck disable=SC2086
    apt-get $aptopts -q update >&2
    (cd "$aptdir/archives" && apt-get $aptopts -q download libtorch-dev >&2)
    rm -rf "$root"
    dpkg-deb -x "$(ls "$aptdir"/archives/libtorch-dev_*.deb | sort -V | tail -n 1)" "$root"
fi
inc="-isystem $root/usr/include -isystem $root/usr/include/torch/csrc/api/include"
printf '#include <torch/version.h>\nTORCH_VERSION\n' | g++ -x c++ -E $inc - | tail -n 1 | sed 's/^/LibTorch headers /'
status=0
for f in $(cd "$top" && ls model/*/*.cpp tools/*.cpp libavfilter-dsfn/engine/*.cpp tests/unit/*.cpp); do
    if (cd "$top" && g++ -std=c++17 -fsyntax-only -I. -Imodel -Ilibavfilter-dsfn -Ilibavfilter-dsfn/engine/include -Itests/unit $inc "$f"); then
        echo "ok: $f"
    else
        echo "FAILED: $f"
        status=1
    fi
done
exit $status
