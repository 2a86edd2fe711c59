#!/bin/sh
# Stop a make target whose tools are not installed, and say how to install them.
# Only `make install-deps` and what README's two commands run (make demo, make
# check) install packages; other targets never do it behind the user's back.
#   need.sh TARGET DEBIAN_PACKAGE...
set -eu
target=$1
shift
missing=
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make $target needs the Debian packages$missing: run 'make install-deps' (it installs every package any target uses)" >&2
exit 1
