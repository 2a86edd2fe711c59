#!/bin/sh
# Fetch real clips for training (footage shipped in Debian packages, see
# docs/DATA.md) into CACHE_DIR/clips/NAME/NNNNN.ppm, scaled down 2x as the
# evaluation does (it hides the compression). None of the evaluation clips
# (scripts/eval/fetch-eval-clips.sh) is here, nor libopenshot's run.mp4, which samples/
# is made from.
#   fetch-training-clips.sh [--copy-sources-to DIR | --sources-from DIR] CACHE_DIR FFMPEG
# The options as in fetch-training-photos.sh: DIR/PACKAGE/PATH holds the original files.
set -eu
copy_to= from=
case ${1:-} in
--copy-sources-to) copy_to=$2; shift 2 ;;
--sources-from) from=$2; shift 2 ;;
esac
cache=$1 ffmpeg=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
raw=$cache/clip-sources out=$cache/clips
mkdir -p "$raw" "$out"
[ -n "$from" ] || . "$top/scripts/setup/private-apt.sh"

# name | where it comes from | filter before the 2x reduction
clips='
openshot-test-video|libopenshot:examples/test_video.mp4|mpdecimate
opencv-box|opencv:samples/cpp/tutorial_code/calib3d/real_time_pose_estimation/Data/box.mp4|null
opencv-cup|opencv:doc/js_tutorials/js_assets/cup.mp4|null
pd-diver|pd-extendedview:usr/share/doc/pd-extendedview/media/diver.mov|mpdecimate
'

# PACKAGE PATH -> prints the file: from the system suite's binary package, or
# extracted once from the bookworm source package.
source_file() {
    pkg=$1 path=$2
    if [ -n "$from" ]; then
        [ -f "$from/$pkg/$path" ] || { echo "fetch-training-clips: $from/$pkg/$path is missing" >&2; exit 1; }
        echo "$from/$pkg/$path"
        return
    fi
    case $pkg in
    pd-extendedview)
        tree=$(package_tree "$cache" "$pkg") # fails the script when the fetch fails
        echo "$tree/$path" ;;
    *)
        found=$(find "$raw/$pkg" -path "*/$path" 2>/dev/null | head -n 1)
        if [ -z "$found" ]; then
            tarball=$(bookworm_source "$cache" "$pkg")
            mkdir -p "$raw/$pkg"
            tar -xf "$tarball" -C "$raw/$pkg" --wildcards "*/$path"
            found=$(find "$raw/$pkg" -path "*/$path" | head -n 1)
        fi
        echo "$found" ;;
    esac
}

echo "$clips" | while IFS='|' read -r name where filter; do
    [ -n "$name" ] || continue
    [ -z "$copy_to" ] && [ -f "$out/$name/.done" ] && continue
    file=$(source_file "${where%%:*}" "${where#*:}")
    if [ -n "$copy_to" ]; then
        mkdir -p "$copy_to/${where%%:*}/$(dirname "${where#*:}")"
        cp "$file" "$copy_to/${where%%:*}/${where#*:}"
        echo "$name: copied"
        continue
    fi
    rm -rf "$out/$name"
    mkdir -p "$out/$name"
    "$ffmpeg" -nostdin -hide_banner -loglevel error -i "$file" \
        -vf "$filter,scale=trunc(iw/4)*2:trunc(ih/4)*2:flags=area,format=rgb24" -fps_mode passthrough \
        "$out/$name/%05d.ppm"
    touch "$out/$name/.done"
done
[ -n "$copy_to" ] && exit 0
for d in "$out"/*/; do
    echo "$(basename "$d"): $(ls "$d" | grep -c '\.ppm$') frames"
done
