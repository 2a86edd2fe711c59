#!/bin/sh
# A transcoding pipeline: enhance the video with dsfn, copy the audio as is.
#   samples/transcode-with-audio.sh INPUT OUTPUT.mp4 [MODEL] [FFMPEG]
# MODEL: a weights file or a shipped model's name (default: the filter's default).
set -eu
. "$(dirname "$0")/filter-escape.sh"
if [ $# -lt 2 ] || [ $# -gt 4 ]; then
    echo "usage: $0 INPUT OUTPUT.mp4 [MODEL] [FFMPEG]" >&2
    exit 2
fi
in=$1 out=$2 model=${3:-}
ffmpeg=${4:-$(dirname "$0")/../build/bin/ffmpeg}
exec "$ffmpeg" -nostdin -hide_banner -y -i "$in" \
    -filter_complex "[0:v]dsfn${model:+=model=$(filter_value "$model")},format=yuv420p[v]" -map "[v]" -map 0:a? \
    -c:v libx264 -crf 18 -c:a copy -movflags +faststart "$out"
