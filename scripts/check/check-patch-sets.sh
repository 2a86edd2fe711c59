#!/bin/sh
# The patch sets of the FFmpeg releases (patches/ffmpegN.M/) differ only where
# FFmpeg does: each has the same two patches, and the filter's documentation (the
# filters.texi section) is the same text in every one.
#   check-patch-sets.sh
set -eu
cd "$(dirname "$0")/../../patches"
texi() { # patch -> the lines it adds to doc/filters.texi
    awk '/^\+\+\+ / { in_texi = ($2 == "b/doc/filters.texi") } in_texi && /^\+/ && !/^\+\+\+ / { print }' "$1"
}
status=0 first=
ref=$(mktemp)
trap 'rm -f "$ref"' EXIT
for set in ffmpeg*/; do
    set=${set%/}
    names=$(cd "$set" && ls ./*.patch | sed 's|^\./||')
    if [ -z "$first" ]; then
        first=$set first_names=$names
        texi "$set"/0001-*.patch > "$ref"
        continue
    fi
    [ "$names" = "$first_names" ] || { echo "check-patch-sets: $set has other patches than $first" >&2; status=1; }
    texi "$set"/0001-*.patch | cmp -s - "$ref" ||
        { echo "check-patch-sets: the filters.texi section of $set differs from $first's:" >&2
          texi "$set"/0001-*.patch | diff "$ref" - >&2 || true; status=1; }
done
[ $status = 0 ] && echo "check-patch-sets: $(ls -d ffmpeg*/ | tr -d / | tr '\n' ' ')agree"
exit $status
