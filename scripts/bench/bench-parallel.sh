#!/bin/sh
# dsfn-parallel against one run, on this machine, same input, one after the other:
# one ffmpeg run with all cores (the filter's default threads), one with threads=1,
# then dsfn-parallel --jobs <cores> with one thread per job. Prints input frames per
# second of each, the speed-up, the share of the work spent on the segments'
# context frames (computed twice) and the mean time per segment.
#   bench-parallel.sh BUILD_DIR MODEL SIZE FRAMES SEGMENT_FRAMES
set -eu
build=$(cd "$1" && pwd) model=$2 size=$3 frames=$4 segment=$5
ffmpeg=$build/bin/ffmpeg
dir=$build/bench-parallel
rm -rf "$dir" && mkdir -p "$dir"
cores=$(nproc)
echo "bench-parallel: $(date -u '+%Y-%m-%d %H:%M UTC'), $cores cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)),"
echo "  $model, $size input ($frames frames of testsrc2, ffv1), segments of $segment frames"
"$ffmpeg" -nostdin -v error -f lavfi -i "testsrc2=size=$size:rate=25,trim=end_frame=$frames" -c:v ffv1 "$dir/in.mkv"

seconds() { # command... -> wall seconds
    /usr/bin/time -f %e -o "$dir/time" "$@" > "$dir/log" 2>&1 || { cat "$dir/log" >&2; exit 1; }
    cat "$dir/time"
}
one=$(seconds "$ffmpeg" -nostdin -i "$dir/in.mkv" -vf "dsfn=model=$model" -c:v ffv1 "$dir/one.mkv")
one1=$(seconds "$ffmpeg" -nostdin -i "$dir/in.mkv" -vf "dsfn=model=$model:threads=1" -c:v ffv1 "$dir/one1.mkv")
par=$(seconds "$build/bin/dsfn-parallel" --jobs "$cores" --segment-frames "$segment" --filter "dsfn=model=$model" \
    --workdir "$dir/work" "$dir/in.mkv" "$dir/par.mkv" -- -c:v ffv1)
grep 'segments,' "$dir/log" | sed 's/^/  /'
same=no
[ "$("$ffmpeg" -v error -i "$dir/par.mkv" -map 0:v -f framemd5 - | grep -v '^#software')" = \
  "$("$ffmpeg" -v error -i "$dir/one1.mkv" -map 0:v -f framemd5 - | grep -v '^#software')" ] && same=yes
awk -v n="$frames" -v F="$segment" -v one="$one" -v one1="$one1" -v par="$par" -v cores="$cores" -v same="$same" \
    -v joblog="$dir/work/joblog" 'BEGIN {
    for (a = 0; a < n; a += F) { b = a + F; if (b > n) b = n; run += (b - a) + (a < 3 ? a : 3) + (n - b < 2 ? n - b : 2); segs++ }
    while ((getline line < joblog) > 0) { split(line, f, "\t"); if (f[1] ~ /^[0-9]+$/) { t += f[4]; jobs++ } }
    printf "  one run, all %d threads:          %7.2f s  %6.2f frames/s\n", cores, one, n / one
    printf "  one run, threads=1:               %7.2f s  %6.2f frames/s\n", one1, n / one1
    printf "  dsfn-parallel --jobs %d, threads=1: %7.2f s  %6.2f frames/s  (%.2fx one run with all threads)\n", cores, par, n / par, one / par
    printf "  identical to the threads=1 run: %s\n", same
    printf "  %d segments; context frames: %d of %d frames run (%.1f%% of the work)\n", segs, run - n, run, 100 * (run - n) / run
    if (jobs) printf "  mean time per segment: %.2f s (%.2f frames/s per job)\n", t / jobs, F / (t / jobs)
}'
