#!/bin/sh
# Install the Debian packages vf_dsfn needs to build and test, if any is missing.
# Extra package names as arguments (the fuzz and sanitizer targets' tools).
set -eu
pkgs="build-essential pkg-config nasm patch xz-utils dpkg-dev ccache libtorch-dev libx264-dev check $*"
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
