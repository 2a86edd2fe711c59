#!/bin/sh
# Valgrind memcheck over short ffmpeg + dsfn jobs: a normal run, a run that ends at
# a scene cut, a size change mid-stream, int8, and an error path (a truncated model,
# which throws inside the engine). Fails on any memcheck error or definite leak
# outside the suppressions in tests/sanitizers/valgrind.supp.
#   scripts/check/valgrind-check.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
ffmpeg="$build/ffmpeg/ffmpeg_g" # unstripped: readable stacks
work=$(mktemp -d "${TMPDIR:-/tmp}/dsfn-valgrind.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Without RDTSCP on the host valgrind cannot start any LibTorch program: see the shim.
preload=
if ! grep -qw rdtscp /proc/cpuinfo; then
    g++ -shared -fPIC -O2 -o "$work/hwy_timer_shim.so" "$top/tests/sanitizers/hwy_timer_shim.cpp" || exit 1
    preload="$work/hwy_timer_shim.so"
    echo "valgrind-check: this CPU has no RDTSCP; libhwy's timer probe is replaced (tests/sanitizers/hwy_timer_shim.cpp)"
fi
"$build/bin/dsfn-tool" init "$work/w4.dsfn" --width 4 --fp16 > /dev/null
head -c 3000 "$work/w4.dsfn" > "$work/cut.dsfn"

failed=0
run() { # name, expected ffmpeg status (0 or nonzero), ffmpeg arguments...
    name=$1 want=$2
    shift 2
    LD_PRELOAD=$preload valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=40 \
        --suppressions="$top/tests/sanitizers/valgrind.supp" \
        "$ffmpeg" -nostdin -v error "$@" -f null - > "$work/log" 2>&1
    rc=$?
    summary=$(grep 'ERROR SUMMARY' "$work/log" | sed 's/^==[0-9]*== //')
    if [ $rc = 99 ] || { [ "$want" = 0 ] && [ $rc != 0 ]; } || { [ "$want" != 0 ] && [ $rc = 0 ]; }; then
        echo "FAIL: $name (exit $rc): $summary"
        grep '^==' "$work/log" | head -n 80
        failed=$((failed + 1))
    else
        echo "PASS: $name: $summary"
    fi
}
src="testsrc2=size=32x24:rate=10"
run "3 frames, full mode, 2 threads" 0 -f lavfi -i "$src,trim=end_frame=3" -vf "dsfn=model=$work/w4.dsfn:threads=2"
run "cut between two sources" 0 -f lavfi -i "$src,trim=end_frame=2" -f lavfi -i "mandelbrot=size=32x24:rate=10,trim=end_frame=2" \
    -filter_complex "[0:v][1:v]concat=n=2,dsfn=model=$work/w4.dsfn:threads=1"
run "bottom-up input (vflip), ensemble=4" 0 -f lavfi -i "$src,trim=end_frame=2" -vf "vflip,dsfn=model=$work/w4.dsfn:ensemble=4"
# A size change mid-stream: the ffmpeg tool drains the old graph, then builds a new one.
"$build/bin/ffmpeg" -nostdin -v error -f lavfi -i "$src,trim=end_frame=2" -c:v mpeg4 -bsf:v dump_extra=freq=keyframe "$work/a.mp4"
"$build/bin/ffmpeg" -nostdin -v error -f lavfi -i "testsrc2=size=40x30:rate=10,trim=end_frame=2" -c:v mpeg4 -bsf:v dump_extra=freq=keyframe "$work/b.mp4"
printf "file 'a.mp4'\nfile 'b.mp4'\n" > "$work/list.txt"
run "size change mid-stream (concat), 16-bit input" 0 -f concat -i "$work/list.txt" \
    -vf "format=yuv420p10le,dsfn=model=$work/w4.dsfn:threads=1"
# int8 runs oneDNN's JIT convolutions (AVX2 ones: valgrind's CPU has no AVX-512).
run "precision=int8, the shipped dsfn-w16" 0 -f lavfi -i "$src,trim=end_frame=2" \
    -vf "dsfn=model=$top/model/weights/dsfn-w16.dsfn:precision=int8:threads=1"
run "truncated model (error path)" 1 -f lavfi -i "$src,trim=end_frame=2" -vf "dsfn=model=$work/cut.dsfn"
[ $failed = 0 ]
