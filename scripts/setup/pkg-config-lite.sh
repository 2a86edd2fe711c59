#!/bin/sh
# A stand-in for pkg-config where it is not installed (the accelerator machine):
# answers FFmpeg's configure for .pc files without variables or Requires, such
# as the libdsfn.pc the Makefile writes, from the folders in PKG_CONFIG_PATH.
#   pkg-config-lite.sh [--exists] [--print-errors] [--cflags] [--libs] [--modversion]
#                      [--variable=V] [--static] NAME [OP VERSION]
# A package asked for as "NAME OP VERSION" is only found when its Version: line
# meets the constraint (OP: = != < <= > >=).
set -eu
# configure passes the constraint as one word ("libdsfn >= 8") or as three: split
# every argument at blanks (no option or package name holds one).
set -f
# shellcheck disable=SC2048,SC2086
set -- $*
set +f
want= name= op= version=
for a in "$@"; do
    case $a in
    --cflags) want="$want Cflags" ;;
    --libs) want="$want Libs" ;;
    --modversion) want="$want Version" ;;
    --variable=*) want="$want ${a#--variable=}=" ;;
    --exists | --print-errors | --static) ;;
    --version) echo 0.29; exit 0 ;;
    -*) echo "pkg-config-lite: unsupported option $a" >&2; exit 1 ;;
    '=' | '!=' | '<' | '<=' | '>' | '>=') op=$a ;;
    *) if [ -z "$name" ]; then name=$a
       elif [ -n "$op" ] && [ -z "$version" ]; then version=$a
       else echo "pkg-config-lite: unexpected argument $a" >&2; exit 1
       fi ;;
    esac
done
[ -n "$name" ] || { echo "pkg-config-lite: no package named" >&2; exit 1; }
[ -z "$op" ] || [ -n "$version" ] || { echo "pkg-config-lite: $op needs a version" >&2; exit 1; }

# Whether version $1 stands in relation $2 to version $3, compared as sort -V does.
version_meets() {
    [ "$1" = "$3" ] && cmp=0 || {
        lower=$(printf '%s\n%s\n' "$1" "$3" | sort -V | head -n 1)
        [ "$lower" = "$1" ] && cmp=-1 || cmp=1
    }
    case $2 in
    '=') [ $cmp -eq 0 ] ;;
    '!=') [ $cmp -ne 0 ] ;;
    '<') [ $cmp -lt 0 ] ;;
    '<=') [ $cmp -le 0 ] ;;
    '>') [ $cmp -gt 0 ] ;;
    '>=') [ $cmp -ge 0 ] ;;
    esac
}

IFS=:
for dir in ${PKG_CONFIG_PATH:-}; do
    [ -f "$dir/$name.pc" ] || continue
    unset IFS
    if [ -n "$op" ]; then
        have=$(sed -n 's/^Version: *//p' "$dir/$name.pc")
        version_meets "$have" "$op" "$version" || {
            echo "Requested '$name $op $version' but version of $name is ${have:-unknown} (pkg-config-lite)" >&2
            exit 1
        }
    fi
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
