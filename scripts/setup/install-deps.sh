#!/bin/sh
# Install the Debian packages vf_dsfn needs to build and test, if any is missing.
# Extra package names as arguments (the fuzz and sanitizer targets' tools).
#   install-deps.sh [PACKAGE...]
# With --check TARGET, install nothing: fail if any PACKAGE given is missing and
# say how to install it. Only `make install-deps` and what README's two commands
# run (make demo, make check) install; other targets check (mk/*.mk).
#   install-deps.sh --check TARGET PACKAGE...
set -eu
check=
if [ "${1:-}" = --check ]; then
    check=$2
    shift 2
    pkgs="$*"
else
    pkgs="build-essential pkg-config nasm patch xz-utils dpkg-dev ccache libtorch-dev libdnnl-dev libx264-dev check $*"
fi
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ -n "$check" ]; then
    echo "make $check needs the Debian packages$missing: run 'make install-deps' (it installs every package any target uses)" >&2
    exit 1
fi
echo "install-deps: installing$missing"
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
