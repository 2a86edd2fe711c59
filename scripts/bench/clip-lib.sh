# Sourced by the sample-clip benches (bench-busy.sh, bench-sample.sh) after they set
# `ffmpeg`: how the clip is encoded, a clock, and the median of a column of numbers.
# Sets clip, enc (ffmpeg's encoder options) and encoder (their name); defines now,
# since (seconds since a `now`) and median.
clip="$(cd "$(dirname "$0")/../.." && pwd)/samples/openshot-run-degraded.mp4"
if "$ffmpeg" -hide_banner -encoders 2> /dev/null | grep -q ' libx264 '; then
    enc="-c:v libx264 -preset fast" encoder="x264 -preset fast"
else
    enc="-c:v mpeg4" encoder="mpeg4"
fi
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f\n", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
