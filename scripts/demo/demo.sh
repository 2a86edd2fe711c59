#!/bin/sh
# The main job: enhance the sample clip with the shipped default model, and put
# it side by side with what plain FFmpeg makes of it (bicubic + frame blending).
#   scripts/demo/demo.sh BUILD_DIR
set -eu
build=$1
ffmpeg="$build/bin/ffmpeg"
sample=samples/openshot-run-degraded.mp4
out_dir="$build/demo"
out="$out_dir/openshot-run-dsfn.mp4"
compare="$out_dir/openshot-run-bicubic-vs-dsfn.mp4"
mkdir -p "$out_dir"

echo "Enhancing $sample (180x100, 15 fps) with dsfn: 4x size, 2x frame rate, deblurred..."
start=$(date +%s)
"$ffmpeg" -nostdin -hide_banner -loglevel warning -stats -y -i "$sample" \
    -vf "dsfn,format=yuv420p" -c:v libx264 -crf 16 "$out"
took=$(( $(date +%s) - start ))

"$ffmpeg" -nostdin -hide_banner -loglevel error -y -i "$sample" -i "$out" -filter_complex \
    "[0:v]scale=iw*4:ih*4:flags=bicubic,framerate=fps=30000/1001[a];[a][1:v]hstack,format=yuv420p[v]" \
    -map "[v]" -c:v libx264 -crf 16 "$compare"

echo
echo "Result:        $out (720x400, 30 fps) in $took s"
echo "Side by side:  $compare (left: bicubic + frame blending, right: dsfn)"
