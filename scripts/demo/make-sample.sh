#!/bin/sh
# Rebuild samples/openshot-run-degraded.mp4, the main job's input: libopenshot's
# examples/run.mp4 (30 fps, 720x400) degraded as docs/EVAL-PROTOCOL.md's protocol degrades
# the evaluation clips at 30 fps: the mean of 3 consecutive frames (shutter blur),
# every 2nd one kept (15 fps), 4x bicubic reduction (180x100).
#   scripts/demo/make-sample.sh BUILD_DIR CACHE_DIR
set -eu
build=$1
cache=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/scripts/eval/fetch-eval-clips.sh" "$cache/eval" > /dev/null
"$build/bin/ffmpeg" -nostdin -v error -y -i "$cache/eval/clips/openshot-run.mp4" \
    -vf "tmix=frames=3,select='gte(n\,2)*not(mod(n-2\,2))',scale=iw/4:ih/4:flags=bicubic,setpts=N*2/(30000/1001)/TB,format=yuv420p" \
    -r 15000/1001 -c:v libx264 -crf 14 -preset veryslow -an -map_metadata -1 \
    "$top/samples/openshot-run-degraded.mp4"
ls -l "$top/samples/openshot-run-degraded.mp4"
