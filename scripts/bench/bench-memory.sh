#!/bin/sh
# Long-run memory check: FRAMES small frames through ffmpeg + dsfn, sampling the
# process's resident set size; prints RSS at frame 1000 and at the end and the
# growth between them (target: under 5%).
#   scripts/bench/bench-memory.sh BUILD_DIR MODEL [FRAMES] [SIZE] [THREADS]
set -eu
build=$1
model=$2
frames=${3:-10000}
size=${4:-32x24}
threads=${5:-0}
ffmpeg="$build/bin/ffmpeg"
work=$(mktemp -d "${TMPDIR:-/tmp}/dsfn-mem.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$ffmpeg" -nostdin -v error -progress "$work/progress" -stats_period 1 \
    -f lavfi -i "testsrc2=size=$size:rate=25,trim=end_frame=$frames" \
    -vf "dsfn=model=$model:threads=$threads" -f null - &
pid=$!
start=$(date +%s)
# One sample a second: seconds, frames output so far, RSS in KiB.
while kill -0 $pid 2> /dev/null; do
    rss=$(awk '/^VmRSS:/ { print $2 }' /proc/$pid/status 2> /dev/null || true)
    done_frames=$(grep '^frame=' "$work/progress" 2> /dev/null | tail -n 1 | cut -d= -f2)
    [ -n "$rss" ] && echo "$(($(date +%s) - start)) ${done_frames:-0} $rss" >> "$work/samples"
    sleep 1
done
wait $pid
elapsed=$(($(date +%s) - start))

# Output frames are twice the input frames: input frame 1000 is output frame 2000.
awk -v frames="$frames" -v size="$size" -v elapsed="$elapsed" '
    { out = $2; rss = $3; if (rss > peak) peak = rss
      if (!at1000 && out >= 2000) at1000 = rss
      # RSS at each tenth of the run: growth that goes on shows as a slope.
      q = int(10 * out / (2 * frames)); if (q >= 1 && q <= 9 && !(q in tenth)) tenth[q] = rss
      last = rss; last_out = out }
    END {
        line = "RSS (MiB) at each tenth of the input:"
        for (q = 1; q <= 9; q++) line = line sprintf(" %.1f", tenth[q] / 1024)
        print line
        printf "input frames %d (%s), output frames %d, %d s\n", frames, size, last_out, elapsed
        printf "RSS at input frame 1000: %.1f MiB; at the end: %.1f MiB; peak %.1f MiB\n", at1000 / 1024, last / 1024, peak / 1024
        growth = at1000 ? 100 * (last - at1000) / at1000 : 0
        printf "growth from frame 1000 to the end: %+.2f%% (target < 5%%)\n", growth
        exit !(at1000 && growth < 5)
    }' "$work/samples"
