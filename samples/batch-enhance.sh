#!/bin/sh
# Enhance every video in a folder with dsfn, keeping audio and subtitles.
#   samples/batch-enhance.sh INPUT_DIR OUTPUT_DIR [MODEL] [FFMPEG]
# MODEL: a weights file or a shipped model's name (default: the filter's default).
# A failed file is reported and the batch goes on; the exit status says
# whether every file succeeded. Outputs appear only when complete.
set -u
in_dir=$1 out_dir=$2 model=${3:-}
ffmpeg=${4:-$(dirname "$0")/../build/bin/ffmpeg}
mkdir -p "$out_dir"
failed=0
for f in "$in_dir"/*; do
    [ -f "$f" ] || continue
    name=$(basename "${f%.*}")
    out="$out_dir/$name.mkv"
    if "$ffmpeg" -nostdin -hide_banner -loglevel error -y -i "$f" \
        -map 0:v:0 -map 0:a? -map 0:s? -vf "dsfn${model:+=model=$model},format=yuv420p" \
        -c:v libx264 -crf 18 -preset medium -c:a copy -c:s copy "$out.part.mkv"; then
        mv "$out.part.mkv" "$out"
        echo "ok:     $f -> $out"
    else
        rm -f "$out.part.mkv"
        echo "FAILED: $f" >&2
        failed=$((failed + 1))
    fi
done
[ $failed -eq 0 ]
