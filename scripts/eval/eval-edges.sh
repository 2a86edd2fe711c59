#!/bin/sh
# Where a model's pictures lose: overall PSNR (dB, 8-bit RGB, every scored output) of
# the whole picture, of its interior (more than 8 input pixels from every edge), of
# the 8-pixel bands along the left, right, top and bottom edges (corners left out),
# and of the picture without its outermost top and bottom rows.
#   eval-edges.sh BUILD_DIR CACHE_DIR MODEL[:OPTIONS] ...
# Reads the inputs and truths that scripts/eval/eval.sh left in CACHE_DIR/work (run it
# first with the same MAX_KEYFRAMES and EVAL_REDUCE).
set -eu
build=$(cd "$1" && pwd) work=$2/work
shift 2
ffmpeg="$build/bin/ffmpeg -nostdin -hide_banner -nostats -loglevel error -y"
ffprobe="$build/bin/ffprobe -v error"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/score.sh"

# Output pixels: 8 input pixels, 4x.
regions="iw:ih:0:0 iw-64:ih-64:32:32 32:ih-64:0:32 32:ih-64:iw-32:32 iw-64:32:32:0 iw-64:32:32:ih-32 iw:ih-2:0:1"
printf '%-9s %-34s %6s %8s %6s %6s %6s %6s %8s\n' clip method whole interior left right top bottom "no rows"
for input in "$work"/*-input.mkv; do
    name=$(basename "$input" -input.mkv)
    truth=$work/$name-truth.mkv
    [ -f "$truth" ] || continue
    n=$($ffprobe -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$input")
    used=$((2 * n - 2)) # eval.sh leaves out the last output pair
    for spec in "$@"; do
        model=${spec%%:*} opts=
        [ "$model" = "$spec" ] || opts=${spec#*:}
        $ffmpeg -i "$input" -vf "dsfn=model=$model:precision=fp32${opts:+:$opts}" -fps_mode passthrough -c:v ffv1 "$tmp/out.mkv"
        row=
        for region in $regions; do
            all=$(score "$tmp/out.mkv" "$truth" $used "$tmp" "$region" | awk '{ print $5 }')
            row="$row $(printf '%6.2f' "$all")"
        done
        printf '%-9s %-34s%s\n' "$name" "dsfn $(basename "$model" .dsfn)${opts:+ $opts}" "$row"
    done
done
