#!/bin/sh
# The sample clip (samples/openshot-run-degraded.mp4, 180x100 at 15 fps -> 720x400 at
# 30 fps) enhanced four ways in one run, each encoded the same way (x264 -preset
# fast where the build has it), median wall seconds of REPEATS runs (default 3):
#   classic chain   the best plain-FFmpeg chain of make eval: minterpolate (mci),
#                   lanczos 4x, unsharp 0.6
#   dsfn            the filter with its defaults (precision=auto; its measurement
#                   is cached by a first run that is not timed, as a user's later
#                   runs find it)
#   dsfn fp32       the filter in fp32
#   dsfn int8       the filter in int8 (the default model ships its ranges)
# and each one's ratio to the classic chain.
#   scripts/bench/bench-sample.sh BUILD_DIR [REPEATS]
set -eu
build=$1
repeats=${2:-3}
ffmpeg="$build/bin/ffmpeg"
. "$(dirname "$0")/clip-lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/dsfn-sample.XXXXXX")
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
. "$(dirname "$0")/../eval/chains.sh"
classic=$(best_classic_chain 30)
job() { # graph -> wall seconds
    t0=$(now)
    # shellcheck disable=SC2086
    "$ffmpeg" -nostdin -v error -y -i "$clip" -vf "$1,format=yuv420p" $enc "$work/out.mp4"
    since "$t0"
}
measure() { # graph -> median seconds
    runs=
    i=0
    while [ $i -lt "$repeats" ]; do
        runs="$runs $(job "$1")"
        i=$((i + 1))
    done
    echo $runs | tr ' ' '\n' | median
}

chosen=$("$ffmpeg" -nostdin -hide_banner -i "$clip" -vf dsfn -f null - 2>&1 | sed -n 's/.*\] \(precision .* (auto: .*)\)$/\1/p' | head -n 1)
echo "sample clip: $clip to $encoder, $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); build: $build; median of $repeats runs, wall seconds"
echo "dsfn's default here: ${chosen:-(no auto line in the log)}"
base=$(measure "$classic")
printf '%-38s %10s %10s\n' method seconds "x classic"
for row in "classic chain (mci, lanczos, unsharp)|$classic" "dsfn (defaults)|dsfn" "dsfn precision=fp32|dsfn=precision=fp32" \
           "dsfn precision=int8|dsfn=precision=int8"; do
    name=${row%%|*} graph=${row#*|}
    if [ "$graph" = "$classic" ]; then t=$base; else t=$(measure "$graph"); fi
    printf '%-38s %10s %9.2fx\n' "$name" "$t" "$(awk -v a="$t" -v b="$base" 'BEGIN { print a / b }')"
done
