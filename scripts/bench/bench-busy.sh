#!/bin/sh
# dsfn on a busy machine: the sample clip enhanced and encoded (x264 -preset fast
# where the build has it), with the default thread count and with threads=1,
# alone and beside CPU-bound processes that this script starts and stops (one,
# and one per core); then two default jobs side by side against the same two one
# after the other. Medians of REPEATS runs (default 3), wall seconds.
#   scripts/bench/bench-busy.sh BUILD_DIR [REPEATS]
set -eu
build=$1
repeats=${2:-3}
ffmpeg="$build/bin/ffmpeg"
. "$(dirname "$0")/clip-lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/dsfn-busy.XXXXXX")
load=
stop_load() {
    [ -z "$load" ] || { kill $load 2> /dev/null; wait $load 2> /dev/null || true; }
    load=
}
trap 'stop_load; rm -rf "$work"' EXIT
start_load() { # N CPU-bound processes
    k=0
    while [ $k -lt "$1" ]; do
        sh -c 'while :; do :; done' &
        load="$load $!"
        k=$((k + 1))
    done
}
job() { # dsfn options, output name
    # shellcheck disable=SC2086
    "$ffmpeg" -nostdin -v error -y -i "$clip" -vf "dsfn$1,format=yuv420p" $enc "$work/$2.mp4"
}
timed_job() { # dsfn options -> wall seconds
    t0=$(now)
    job "$1" one
    since "$t0"
}
measure() { # busy processes, dsfn options -> median seconds
    runs=
    i=0
    while [ $i -lt "$repeats" ]; do
        start_load "$1"
        runs="$runs $(timed_job "$2")"
        stop_load
        i=$((i + 1))
    done
    echo $runs | tr ' ' '\n' | median
}

cores=$(nproc)
echo "busy machine: $clip to $encoder, $cores cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); build: $build; median of $repeats runs, wall seconds"
printf '%-34s %12s %12s %10s\n' "beside the job" "dsfn" "threads=1" "ratio"
for n in 0 1 $cores; do
    [ $n = 1 ] && [ $cores = 1 ] && continue
    auto=$(measure $n "") one=$(measure $n "=threads=1")
    case $n in 0) what="nothing (idle)" ;; 1) what="1 CPU-bound process" ;; *) what="$n CPU-bound processes (1 per core)" ;; esac
    printf '%-34s %12s %12s %9.2fx\n' "$what" "$auto s" "$one s" "$(awk -v a="$auto" -v b="$one" 'BEGIN { print a / b }')"
done

# Two default jobs side by side, against the same two one after the other.
side= serial=
i=0
while [ $i -lt "$repeats" ]; do
    t0=$(now)
    job "" a & a=$!
    job "" b & b=$!
    wait $a
    wait $b
    side="$side $(since "$t0")"
    t0=$(now)
    job "" a
    job "" b
    serial="$serial $(since "$t0")"
    i=$((i + 1))
done
side=$(echo $side | tr ' ' '\n' | median) serial=$(echo $serial | tr ' ' '\n' | median)
printf 'two dsfn jobs side by side: %s s; one after the other: %s s (%.2fx)\n' "$side" "$serial" \
    "$(awk -v a="$side" -v b="$serial" 'BEGIN { print a / b }')"
