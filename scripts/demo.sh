#!/bin/sh
# The main job: enhance the sample clip with the shipped model.
#   scripts/demo.sh BUILD_DIR
set -eu
build=$1
ffmpeg="$build/bin/ffmpeg"
model=model/weights/dsfn.dsfn
sample=$(ls samples/*.mp4 samples/*.mkv 2>/dev/null | head -n 1 || true)

"$ffmpeg" -hide_banner -filters 2>/dev/null | grep ' dsfn '
if [ ! -f "$model" ] || [ -z "$sample" ]; then
    echo
    echo "Built $ffmpeg with the dsfn filter (options: $ffmpeg -h filter=dsfn)."
    echo "No trained model ships yet, so there is nothing to enhance: run the filter"
    echo "with model=FILE, a DSFN weights file (see README.md, 'Models')."
    exit 0
fi
out="$build/demo/$(basename "${sample%.*}")-dsfn.mp4"
mkdir -p "$(dirname "$out")"
start=$(date +%s)
"$ffmpeg" -nostdin -hide_banner -loglevel warning -stats -y -i "$sample" \
    -vf "dsfn=model=$model,format=yuv420p" -c:v libx264 -crf 18 -c:a copy "$out"
echo "Enhanced $sample -> $out in $(( $(date +%s) - start )) s"
