#!/bin/sh
# Speed of the dsfn filter through the built ffmpeg, against the roofline measured
# in the same run (the model's bare convolutions, channels-last, fp32 and bf16).
#   scripts/bench.sh BUILD_DIR MODEL [THREADS]
# For each size: seconds per output frame at steady state (the difference of a
# short and a long run, so model loading and the window's start drop out),
# achieved GFLOP/s (the model's counted FLOPs per input frame / seconds per input
# frame), its ratio to the roofline, DSFN1/DSFN2 passes per input frame and peak RSS.
set -eu
build=$1
model=$2
threads=${3:-0}
ffmpeg="$build/bin/ffmpeg"
tool="$build/bin/dsfn-tool"
work=$(mktemp -d "${TMPDIR:-/tmp}/dsfn-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
path=$("$ffmpeg" -nostdin -v verbose -f lavfi -i "testsrc2=size=16x16:rate=1,trim=end_frame=1" \
       -vf "dsfn=model=$model" -f null - 2>&1 | sed -n 's/.*\] model \(.*\): width .*/\1/p' | head -n 1)
[ -n "$path" ] || { echo "bench: cannot load model $model"; exit 1; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "model:   $path; threads: $([ "$threads" = 0 ] && echo "all ($(nproc))" || echo "$threads")"

# run SIZE FRAMES -> "seconds peak_kib passes_line"
run() {
    /usr/bin/time -f '%e %M' -o "$work/time" "$ffmpeg" -nostdin -v verbose \
        -f lavfi -i "testsrc2=size=$1:rate=25,trim=end_frame=$2" -vf "dsfn=model=$path:threads=$threads" \
        -f null - > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    passes=$(sed -n 's/.*\] \([0-9]* frames in, .* passes\).*/\1/p' "$work/log")
    echo "$(cat "$work/time") $passes"
}

printf '\n%-9s %-9s %12s %12s %10s %10s %8s %10s %s\n' input output "s/out frame" "s/in frame" "GFLOP/s" \
    "roofline" "ratio" "peak RSS" "passes (long run)"
for size in 160x90 320x180; do
    w=${size%x*} h=${size#*x}
    case $size in 160x90) short=2 long=14 ;; *) short=2 long=8 ;; esac
    cost=$(if [ "$threads" = 0 ]; then "$tool" cost "$path" --size "$size"; else "$tool" cost "$path" --size "$size" --threads "$threads"; fi)
    flops=$(echo "$cost" | sed -n 's/^flops per input frame: \([0-9.e+-]*\) GFLOP.*/\1/p')
    roof32=$(echo "$cost" | sed -n 's/^roofline fp32: .*, \([0-9.e+-]*\) GFLOP\/s/\1/p')
    roof16=$(echo "$cost" | sed -n 's/^roofline bf16: .*, \([0-9.e+-]*\) GFLOP\/s/\1/p')
    set -- $(run "$size" $short)
    t_short=$1
    set -- $(run "$size" $long)
    t_long=$1 rss=$2
    shift 2
    passes="$*"
    awk -v ts="$t_short" -v tl="$t_long" -v n=$((long - short)) -v f="$flops" -v r32="$roof32" -v r16="$roof16" \
        -v size="$size" -v out="$((4 * w))x$((4 * h))" -v rss="$rss" -v passes="$passes" 'BEGIN {
        per_in = (tl - ts) / n; g = f / per_in
        printf "%-9s %-9s %12.3f %12.3f %10.1f %10.1f %7.0f%% %8.0f MiB %s\n", size, out, per_in / 2, per_in, g, r32, 100 * g / r32, rss / 1024, passes
        printf "%-9s %-9s   (model: %.1f GFLOP per input frame; bf16 roofline %.1f GFLOP/s, %.2fx fp32)\n", "", "", f, r16, r16 / r32
    }'
done
