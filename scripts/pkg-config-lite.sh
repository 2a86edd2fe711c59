#!/bin/sh
# A stand-in for pkg-config where it is not installed (the accelerator machine):
# answers FFmpeg's configure for .pc files without variables or Requires, such
# as the libdsfn.pc the Makefile writes, from the folders in PKG_CONFIG_PATH.
#   pkg-config-lite.sh [--exists] [--print-errors] [--cflags] [--libs] [--modversion] [--variable=V] [--static] NAME
set -eu
want= name=
for a in "$@"; do
    case $a in
    --cflags) want="$want Cflags" ;;
    --libs) want="$want Libs" ;;
    --modversion) want="$want Version" ;;
    --variable=*) want="$want ${a#--variable=}=" ;;
    --exists | --print-errors | --static) ;;
    --version) echo 0.29; exit 0 ;;
    -*) echo "pkg-config-lite: unsupported option $a" >&2; exit 1 ;;
    *) name=$a ;;
    esac
done
[ -n "$name" ] || { echo "pkg-config-lite: no package named" >&2; exit 1; }
IFS=:
for dir in ${PKG_CONFIG_PATH:-}; do
    [ -f "$dir/$name.pc" ] || continue
    unset IFS
    line=
    for key in $want; do
        case $key in
        *=) line="$line $(sed -n "s/^$key *//p" "$dir/$name.pc")" ;; # a variable: NAME=VALUE
        *) line="$line $(sed -n "s/^$key: *//p" "$dir/$name.pc")" ;;
        esac
    done
    [ -z "$want" ] || echo $line
    exit 0
done
echo "Package $name was not found in PKG_CONFIG_PATH (pkg-config-lite)" >&2
exit 1
