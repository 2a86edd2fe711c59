#!/bin/sh
# Speed of the dsfn filter through the built ffmpeg, against the roofline measured
# in the same run (the model's bare convolutions, channels-last, in each precision), in
# fp32, bf16, int8 (when MODEL.int8 is beside the model) and the default, auto (its
# row names the precision it chose here, and its ratio is to that precision's
# roofline; the log line says why it chose it).
#   scripts/bench/bench.sh BUILD_DIR MODEL [THREADS] [REPEATS] [ENSEMBLE] [EDGE_MIRROR]
# For each size: seconds per output frame at steady state (the difference of a
# short and a long run, so model loading and the window's start drop out),
# achieved GFLOP/s (the model's counted FLOPs per input frame / seconds per input
# frame), its ratio to the roofline, DSFN1/DSFN2 passes per input frame and peak RSS.
# Each run is repeated REPEATS times (default 3) and the fastest kept: on a shared
# host single runs varied by up to 30% (bench/REPORT.md, 2026-11-30).
# ENSEMBLE (1, 2 or 4) is the filter's option: that many passes per pass, and as
# many times the FLOPs. EDGE_MIRROR (empty: the filter's default) is the filter's
# option too; the FLOPs are counted on the picture it grows.
set -eu
build=$1
model=$2
threads=${3:-0}
repeats=${4:-3}
ensemble=${5:-1}
mirror_opt=${6:+:edge_mirror=$6}
ffmpeg="$build/bin/ffmpeg"
tool="$build/bin/dsfn-tool"
work=$(mktemp -d "${TMPDIR:-/tmp}/dsfn-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
# precision=auto measures once and caches what it found: a cache of this run's own,
# so the first auto run measures here, today, and the others read its result.
export XDG_CACHE_HOME="$work/cache"
probe=$("$ffmpeg" -nostdin -v verbose -f lavfi -i "testsrc2=size=16x16:rate=1,trim=end_frame=1" \
       -vf "dsfn=model=$model$mirror_opt" -f null - 2>&1 | grep '\] model .*: width ' | head -n 1) || true
path=$(echo "$probe" | sed -n 's/.*\] model \(.*\): width .*/\1/p')
mirror=$(echo "$probe" | sed -n 's/.*, edge_mirror \([0-9]*\)$/\1/p')
[ -n "$path" ] && [ -n "$mirror" ] || { echo "bench: cannot load model $model${mirror_opt:+ with ${mirror_opt#:}}"; exit 1; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "libtorch: $(ldd "$ffmpeg" | sed -n 's/.*libtorch_cpu[^ ]* => \([^ ]*\).*/\1/p' | head -n 1)"
echo "model:   $path; threads: $([ "$threads" = 0 ] && echo "all ($(nproc))" || echo "$threads")"
echo "runs:    the fastest of $repeats of each; ensemble=$ensemble, edge_mirror=$mirror"

# run SIZE FRAMES PRECISION -> "seconds peak_kib passes_line"; the engine's time
# by stage (DSFN1 DSFN2 to-tensors to-pictures, seconds) goes to $work/stages
run() {
    /usr/bin/time -f '%e %M' -o "$work/time" "$ffmpeg" -nostdin -v verbose \
        -f lavfi -i "testsrc2=size=$1:rate=25,trim=end_frame=$2" \
        -vf "dsfn=model=$path:threads=$threads:precision=$3:ensemble=$ensemble:edge_mirror=$mirror" -f null - > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    passes=$(sed -n 's/.*\] \([0-9]* frames in, .* DSFN2 passes\).*/\1/p' "$work/log" | tail -n 1)
    # What auto chose (the model line names the precision run), and the first reason given.
    sed -n 's/.*\] model .*, \([a-z0-9]*\), ensemble of .*/\1/p' "$work/log" | tail -n 1 > "$work/ran"
    [ -s "$work/auto" ] || sed -n 's/.*\] \(precision .* (auto: .*)\)$/\1/p' "$work/log" | head -n 1 > "$work/auto"
    sed -n 's/.*engine time: DSFN1 \([0-9.]*\) s, DSFN2 \([0-9.]*\) s, pictures to tensors \([0-9.]*\) s, tensors to pictures \([0-9.]*\) s/\1 \2 \3 \4/p' \
        "$work/log" | tail -n 1 > "$work/stages"
    echo "$(cat "$work/time") $passes"
}

# best SIZE FRAMES PRECISION: the fastest of $repeats runs (its stages in $work/stages)
best() {
    kept=
    i=0
    while [ $i -lt "$repeats" ]; do
        result=$(run "$@")
        if [ -z "$kept" ] || awk -v a="${result%% *}" -v b="${kept%% *}" 'BEGIN { exit !(a < b) }'; then
            kept=$result
            cp "$work/stages" "$work/stages.best"
        fi
        i=$((i + 1))
    done
    mv "$work/stages.best" "$work/stages"
    echo "$kept"
}

printf '\n%-9s %-9s %-9s %11s %11s %9s %9s %7s %9s  %s\n' input output prec "s/out frm" "s/in frm" "GFLOP/s" \
    "roofline" "ratio" "peak RSS" "passes (long run)"
for size in 160x90 320x180; do
    w=${size%x*} h=${size#*x}
    # Long runs of ~4-5 s (dsfn-w16 fp32): with 14 and 8 frames the start-up's noise
    # left in the difference made single rows swing by 20-50% (bench/REPORT.md).
    case $size in 160x90) short=2 long=48 ;; *) short=2 long=16 ;; esac
    # The roofline at the filter's thread count (0: all online cores, as the filter does),
    # on the picture the network sees: grown by edge_mirror on each side.
    cost=$("$tool" cost "$path" --size "$((w + 2 * mirror))x$((h + 2 * mirror))" --threads "$([ "$threads" = 0 ] && nproc || echo "$threads")")
    echo "$cost" | grep '^passes' | sed "s/^/$size /" >> "$work/breakdown"
    echo "$cost" | sed -n 's/^int8 backend: //p' > "$work/int8-backend"
    flops=$(echo "$cost" | sed -n 's/^flops per input frame: \([0-9.e+-]*\) GFLOP.*/\1/p' | awk -v k="$ensemble" '{ print $1 * k }')
    precs="fp32 bf16 $(if [ -f "$path.int8" ]; then echo int8; fi) auto"
    for prec in $precs; do
        set -- $(best "$size" $short $prec)
        t_short=$1
        mv "$work/stages" "$work/stages.short"
        set -- $(best "$size" $long $prec)
        t_long=$1 rss=$2
        ran=$(cat "$work/ran")
        roof=$(echo "$cost" | sed -n "s/^roofline $ran: .*, \([0-9.e+-]*\) GFLOP\/s/\1/p")
        label=$prec
        [ "$prec" != auto ] || label="auto=$ran"
        # Per input frame at steady state, as for the wall time.
        paste -d' ' "$work/stages.short" "$work/stages" | awk -v n=$((long - short)) -v t="$t_long $t_short" \
            -v label="$size $label" '{ split(t, w, " "); per = (w[1] - w[2]) / n
            printf "%-17s DSFN1 %.4f s, DSFN2 %.4f s, to tensors %.4f s, to pictures %.4f s; outside the engine %.4f s (%.1f%%)\n",
                   label, ($5 - $1) / n, ($6 - $2) / n, ($7 - $3) / n, ($8 - $4) / n,
                   per - ($5 + $6 + $7 + $8 - $1 - $2 - $3 - $4) / n,
                   100 * (per - ($5 + $6 + $7 + $8 - $1 - $2 - $3 - $4) / n) / per }' >> "$work/stages.table"
        shift 2
        awk -v ts="$t_short" -v tl="$t_long" -v n=$((long - short)) -v f="$flops" -v r="$roof" -v prec=$label \
            -v size="$size" -v out="$((4 * w))x$((4 * h))" -v rss="$rss" -v passes="$*" 'BEGIN {
            per_in = (tl - ts) / n; g = f / per_in
            if (r == "") { roof = "-"; ratio = "-" } else { roof = sprintf("%.1f", r); ratio = sprintf("%.0f%%", 100 * g / r) }
            printf "%-9s %-9s %-9s %11.3f %11.3f %9.1f %9s %7s %5.0f MiB  %s\n", size, out, prec, per_in / 2, per_in, g, roof, ratio, rss / 1024, passes
        }'
    done
done
echo
echo "auto: $(cat "$work/auto")"
echo "int8 convolutions: $(cat "$work/int8-backend")"
echo
echo "The filter's time by stage (its verbose log; s per input frame, long run minus short run):"
cat "$work/stages.table"
echo
echo "Where a frame's time goes inside the network (dsfn-tool cost, whole-picture passes):"
cat "$work/breakdown"
