# Sourced by run.sh: CUDA frames into dsfn on a machine without a GPU, through a
# stand-in for NVIDIA's driver (cuda-stand-in/libcuda.c: host memory as device
# memory), so that FFmpeg's own hwupload_cuda makes real CUDA frames: the filter
# must take them in negotiation and, on the CPU, stop with the message that says
# what to change. What only a GPU can show runs in the accelerator run.

# --- CUDA frames (a stand-in driver) ------------------------------------------------
# ffnvcodec's headers, as the build found them (build/pkgconfig/ffnvcodec.pc; a
# relative path there is relative to FFmpeg's object folder).
nvinc=$(sed -n 's/^Cflags: -I//p' "$build/pkgconfig/ffnvcodec.pc" 2>/dev/null)
case $nvinc in /*|'') ;; *) nvinc=$build/ffmpeg/$nvinc ;; esac
if [ -z "$nvinc" ] || [ ! -f "$nvinc/ffnvcodec/dynlink_loader.h" ]; then
    fail "CUDA frames: no ffnvcodec headers for this build ($build/pkgconfig/ffnvcodec.pc)"
else
    standin=$work/cuda-stand-in
    mkdir -p "$standin"
    # A failing stub for every function FFmpeg loads, weak: libcuda.c's own win.
    sed -n 's/.*LOAD_SYMBOL[_A-Z]*([^,]*, *[^,]*, *"\([A-Za-z0-9_]*\)").*/\1/p' "$nvinc/ffnvcodec/dynlink_loader.h" |
        sort -u | awk '{ printf "__attribute__((weak)) int %s(void) { return 801; }\n", $1 }' > "$standin/stubs.c"
    if cc -shared -fPIC -O1 -I"$nvinc" -o "$standin/libcuda.so.1" \
        "$top/tests/e2e/cuda-stand-in/libcuda.c" "$standin/stubs.c" 2> "$work/log"; then
        with_cuda() { LD_LIBRARY_PATH="$standin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ff \
            -init_hw_device cuda=gpu -filter_hw_device gpu "$@"; }
        cuda_src="testsrc2=size=32x18:rate=10,trim=end_frame=2"
        # The stand-in works: frames go up and come back, and dsfn after them runs.
        got=$(with_cuda -f lavfi -i "$cuda_src" -vf "format=nv12,hwupload_cuda,hwdownload,format=nv12,dsfn=model=$model:device=cpu" \
            -f framecrc - 2> "$work/log" | grep -c '^0,')
        [ "$got" = 4 ] && pass "CUDA frames: a stand-in driver's frames, downloaded, through dsfn" ||
            fail "CUDA frames: stand-in round trip (got $got frames)" "$(cat "$work/log")"
        for fmt in nv12 yuv444p bgr0; do
            out=$(with_cuda -f lavfi -i "$cuda_src" -vf "format=$fmt,hwupload_cuda,dsfn=model=$model:device=cpu" \
                -f null - 2>&1)
            rc=$?
            case $rc in 0|124|132|134|135|136|137|139) crashed=1 ;; *) crashed=0 ;; esac # as expect_error
            if [ $crashed = 0 ] &&
                echo "$out" | grep -q "The input is CUDA frames, but dsfn runs on the CPU: give it device=cuda"; then
                pass "CUDA frames ($fmt) into dsfn on the CPU: refused, saying what to change"
            else
                fail "CUDA frames ($fmt) into dsfn on the CPU (exit $rc)" "$out"
            fi
        done
    else
        fail "CUDA frames: the stand-in driver does not build" "$(cat "$work/log")"
    fi
fi
