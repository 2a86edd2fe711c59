#!/bin/bash
# The prepared accelerator run: one `device` command on a lent GPU machine turns
# the working tree and the pack (scripts/accelerator/accelerator-pack.sh) into GPU figures
# and a width-64 model, with nothing of ours installed there and no network:
#   1. builds libdsfn, the tools, the trainer and a minimal ffmpeg (the end-to-end
#      suite's codecs, plus what the training data needs; no nasm) against the
#      LibTorch inside that machine's Python (PYTHON, default python3);
#   2. runs the end-to-end suite with every filter instance on the GPU;
#   3. compares device=cuda with device=cpu pictures on the sample clip (fp32: >= 45 dB);
#   4. measures output frames per second for dsfn-w16 and a width-64 network at
#      480x270 -> 1920x1080 and 960x540 -> 3840x2160, fp32, bf16 and fp16;
#   5. times the GPU pipeline: CUDA frames from NVDEC (or hwupload_cuda) through
#      dsfn and on, against the same job with software frames, at both sizes, and
#      checks that the two give the same pictures (>= 45 dB);
#   6. trains width 64 (widened from dsfn-w16; the paper's loss, bf16 mixed
#      precision, batch 16 of 64x64 patches) for the seconds left.
# Everything lands under OUT (or --out): summary.txt, run.log, e2e.log, bench.csv,
# gpu-frames.csv, train.log and the trained weights with their recipe.
#
#   accelerator-run.sh [--cpu] [--pack DIR] [--out DIR] [--seconds N]
#
# --cpu is the rehearsal (make check-libtorch2): the same steps on the CPU with
# tiny sizes, a width-20 "wide" network and a few training steps. --seconds is the
# whole run's budget (default 510 on the GPU, inside the 9 minutes a 10-minute
# command leaves; 3600 with --cpu). Run it in a copy of the tree: it writes config.mk
# and builds in build/accel (a second run in the same copy reuses that build).
set -uo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS

mode=gpu pack=accelerator-pack out=${OUT:-build/accel-out} budget=
while [ $# -gt 0 ]; do
    case $1 in
    --cpu) mode=cpu; shift ;;
    --pack) pack=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --seconds) budget=$2; shift 2 ;;
    *) echo "usage: accelerator-run.sh [--cpu] [--pack DIR] [--out DIR] [--seconds N]" >&2; exit 2 ;;
    esac
done
# Two cores take minutes over what sixteen and a GPU do in seconds.
[ -n "$budget" ] || { [ $mode = gpu ] && budget=510 || budget=3600; }
python=${PYTHON:-python3}
jobs=$(nproc)
build=build/accel
mkdir -p "$out" "$build"
out=$(cd "$out" && pwd)
summary=$out/summary.txt
: > "$summary"
: > "$out/run.log"
exec > >(tee -a "$out/run.log") 2>&1

say() { echo "$*" | tee -a "$summary"; }
elapsed() { echo $((SECONDS - start)); }
left() { echo $((budget - SECONDS + start)); }
die() { say "accelerator-run: $* (at $(elapsed) s)"; exit 1; }

if [ $mode = gpu ]; then
    dev=cuda sizes="480x270 960x540" precisions="fp32 bf16 fp16" wide=64 frames_short=8 frames_long=32 sample_frames=1000
    train_args="--batch 16 --patch 64 --device cuda --precision bf16 --log-every 20"
else
    dev=cpu sizes="32x18 48x28" precisions="fp32 bf16" wide=20 frames_short=2 frames_long=4 sample_frames=6
    train_args="--batch 2 --patch 16 --device cpu --precision bf16 --run-steps 4 --log-every 2"
fi

# --- 0. What is here --------------------------------------------------------------
# A config.mk not from an earlier run here means a working tree of someone's own.
[ -f config.mk ] && [ ! -f "$build/.configured-here" ] &&
    die "config.mk exists: run this in a copy of the tree (make check-libtorch2 makes one)"
[ -f "$pack/.done" ] || die "no complete pack in '$pack' (make accelerator-pack)"
say "accelerator run ($mode), $(date -u '+%Y-%m-%d %H:%M UTC'), $jobs cores, budget $budget s"
for tool in make gcc g++ tar xz patch readelf; do
    command -v $tool > /dev/null || die "$tool is not installed"
done
command -v nvidia-smi > /dev/null && nvidia-smi -L | tee -a "$summary"
torch_dir=$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))') ||
    die "$python has no torch"
say "LibTorch: $("$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)') in $torch_dir"
say "compiler: $(gcc --version | head -n 1)"

# --- 1. Build ---------------------------------------------------------------------
step_start=$SECONDS
# FFmpeg's CUDA headers, from the pack: there is no network here.
mkdir -p "$build/cache/apt-trixie-bin/archives"
cp "$pack"/libffmpeg-nvenc-dev_*.deb "$build/cache/apt-trixie-bin/archives/" || die "the pack has no ffnvcodec"
if [ ! -f "$build/ffmpeg-src/.patched" ]; then
    rm -rf "$build/ffmpeg-src"
    mkdir -p "$build/ffmpeg-src"
    tar -xJf "$pack"/ffmpeg_*.orig.tar.xz -C "$build/ffmpeg-src" --strip-components=1 || die "cannot unpack FFmpeg"
fi
./configure --with-libtorch="$torch_dir" --ffmpeg-source="$build/ffmpeg-src" --cache-dir="$build/cache" ||
    die "configure failed"
touch "$build/.configured-here"
make -j"$jobs" accelerator-build > "$build/make.log" 2>&1 || { tail -n 40 "$build/make.log"; die "build failed"; }
say "build: $((SECONDS - step_start)) s"
ffmpeg=$build/bin/ffmpeg tool=$build/bin/dsfn-tool trainer=$build/bin/dsfn-train
if grep -q '^TORCH_HAS_CUDA = 1' config.mk; then
    linked=$(scripts/check/check-cuda-linked.sh "$ffmpeg") || die "the CUDA libraries are not linked"
    say "$linked"
fi

# --- 2. Tests: the unit tests where Check is installed, the end-to-end suite on $dev --
if [ -x "$build/tests/unit-tests" ]; then
    make accelerator-unit-tests > "$out/unit.log" 2>&1 && say "unit tests: $(grep -o '[0-9]*%: Checks: [0-9]*, Failures: [0-9]*, Errors: [0-9]*' "$out/unit.log")" ||
        { tail -n 30 "$out/unit.log"; die "unit tests failed"; }
fi
step_start=$SECONDS
# At most a third of the time left, so that a slow or stuck suite leaves the rest its turn.
DSFN_E2E_FFMPEG_VERSION=$(sed -n "s/^FFMPEG_VERSION = //p" config.mk) DSFN_E2E_DEVICE=$dev timeout $(($(left) / 3)) tests/e2e/run.sh "$build" > "$out/e2e.log" 2>&1
e2e_rc=$?
[ $e2e_rc = 124 ] && say "end-to-end suite stopped at its time limit"
say "end-to-end suite on $dev: $(tail -n 1 "$out/e2e.log") ($((SECONDS - step_start)) s)"
grep '^FAIL' "$out/e2e.log" | tee -a "$summary"

# --- 3. The training data, through the same conversion as make train ----------------
data=$build/train
scripts/train/fetch-training-photos.sh --sources-from "$pack/photos" "$data" "$ffmpeg" | tail -n 1 ||
    die "photos failed"
scripts/train/fetch-training-clips.sh --sources-from "$pack/clips" "$data" "$ffmpeg" || die "clips failed"

# --- 4. GPU against CPU on a real clip ---------------------------------------------
# Both instances in one graph, on the same decoded frames; fp32 on the CPU is the reference.
sample=samples/openshot-run-degraded.mp4
for p in $precisions; do
    psnr=$("$ffmpeg" -nostdin -hide_banner -i "$sample" -filter_complex \
        "[0:v]trim=end_frame=$sample_frames,format=gbrp,split[a][b];[a]dsfn=device=cpu:threads=$jobs:precision=fp32[x];[b]dsfn=device=$dev:precision=$p[y];[x][y]psnr" \
        -f null - 2>&1 | sed -n 's/.*PSNR .*average:\([0-9.inf]*\).*/\1/p' | tail -n 1)
    say "agreement, $sample, device=$dev precision=$p against device=cpu fp32: PSNR ${psnr:-failed} dB"
done

# --- 5. Speed -------------------------------------------------------------------------
# Output frames per second from two runs of each setting, N and 4N input frames:
# the difference leaves out start-up (loading, CUDA context, cuDNN's autotuning).
"$tool" widen model/weights/dsfn-w16.dsfn "$build/dsfn-w$wide-init.dsfn" --width $wide --force > /dev/null ||
    die "cannot widen dsfn-w16 to $wide"
run_seconds() { # model size precision frames -> wall seconds, or nothing on failure
    local t0=$EPOCHREALTIME
    timeout 120 "$ffmpeg" -nostdin -hide_banner -loglevel error -f lavfi \
        -i "testsrc2=size=$2:rate=30,trim=end_frame=$4" -vf "dsfn=model=$1:device=$dev:precision=$3" \
        -f null - > /dev/null 2> "$build/bench.err" || { tail -n 5 "$build/bench.err" >&2; return 1; }
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}
echo "model,input,output,precision,output_fps,seconds_short,seconds_long" > "$out/bench.csv"
for model in model/weights/dsfn-w16.dsfn "$build/dsfn-w$wide-init.dsfn"; do
    for size in $sizes; do
        for p in $precisions; do
            [ "$(left)" -gt 60 ] || { say "speed: out of time before $model $size $p"; break 3; }
            w=${size%x*} h=${size#*x}
            a=$(run_seconds "$model" "$size" $p $frames_short) && b=$(run_seconds "$model" "$size" $p $frames_long)
            if [ -n "${a:-}" ] && [ -n "${b:-}" ]; then
                fps=$(awk -v a="$a" -v b="$b" -v n=$((2 * (frames_long - frames_short))) \
                    'BEGIN { if (b > a) printf "%.2f", n / (b - a); else print "unmeasurable" }')
            else
                fps=failed
            fi
            echo "$(basename "$model"),$size,$((4 * w))x$((4 * h)),$p,$fps,${a:-},${b:-}" >> "$out/bench.csv"
            say "speed: $(basename "$model") ${size} -> $((4 * w))x$((4 * h)) $p: $fps output frames/s"
            a= b=
        done
    done
done

# --- 5b. Frames on the GPU ----------------------------------------------------------
# The same job twice: decoded frames stay on the GPU (NVDEC, or hwupload_cuda where
# the driver exposes no decoder) into dsfn and out of it as CUDA frames, and the
# software way, where frames go to the CPU for RGB around dsfn. Output frames per
# second from N and 4N input frames as above; then both ways in one graph on 4:4:4
# frames tagged BT.709 (so both convert colours alike), compared in RGB.
echo "input,output,way,output_fps,seconds_short,seconds_long" > "$out/gpu-frames.csv"
cuda_dev="-init_hw_device cuda=gpu -filter_hw_device gpu"
# shellcheck disable=SC2086
if "$ffmpeg" -nostdin -hide_banner -loglevel error $cuda_dev -f lavfi -i testsrc2=size=64x36,trim=end_frame=2 \
    -vf format=nv12,hwupload_cuda,hwdownload,format=nv12 -f null - 2> "$build/cuda-probe.err"; then
    has_cuda=yes
else
    has_cuda=no
    say "CUDA frames: no CUDA device for FFmpeg here ($(tail -n 1 "$build/cuda-probe.err")): GPU ways skipped"
fi
pipeline_seconds() { # clip frames input-options filters -> wall seconds, or nothing on failure
    local t0=$EPOCHREALTIME
    # shellcheck disable=SC2086
    timeout 120 "$ffmpeg" -nostdin -hide_banner -loglevel error $3 -i "$1" -vf "trim=end_frame=$2,$4" \
        -f null - > /dev/null 2> "$build/pipeline.err" || { tail -n 5 "$build/pipeline.err" >&2; return 1; }
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}
for size in $sizes; do
    [ "$(left)" -gt 90 ] || { say "GPU frames: out of time before $size"; break; }
    w=${size%x*} h=${size#*x}
    clip=$build/gpu-frames-$size.mp4
    "$ffmpeg" -nostdin -hide_banner -loglevel error -y -f lavfi \
        -i "testsrc2=size=$size:rate=30,trim=end_frame=$frames_long" -c:v mpeg4 -q:v 2 "$clip" ||
        die "cannot make $clip"
    ways="software"
    if [ $has_cuda = yes ]; then
        # Without a decoder in the driver, ffmpeg falls back to software frames, which
        # hwdownload refuses: so the probe sees whether frames come out on the GPU.
        if "$ffmpeg" -nostdin -hide_banner -loglevel error -hwaccel cuda -hwaccel_output_format cuda -i "$clip" \
            -frames:v 1 -vf hwdownload,format=nv12 -f null - 2> /dev/null; then
            gpu_in="-hwaccel cuda -hwaccel_output_format cuda" gpu_vf= ways="software nvdec"
        else
            gpu_in=$cuda_dev gpu_vf="format=nv12,hwupload_cuda," ways="software hwupload_cuda"
        fi
    fi
    for way in $ways; do
        if [ $way = software ]; then opts= vf="dsfn=device=$dev"; else opts=$gpu_in vf="${gpu_vf}dsfn=device=$dev"; fi
        a=$(pipeline_seconds "$clip" $frames_short "$opts" "$vf") && b=$(pipeline_seconds "$clip" $frames_long "$opts" "$vf")
        if [ -n "${a:-}" ] && [ -n "${b:-}" ]; then
            fps=$(awk -v a="$a" -v b="$b" -v n=$((2 * (frames_long - frames_short))) \
                'BEGIN { if (b > a) printf "%.2f", n / (b - a); else print "unmeasurable" }')
        else
            fps=failed
        fi
        echo "$size,$((4 * w))x$((4 * h)),$way,$fps,${a:-},${b:-}" >> "$out/gpu-frames.csv"
        say "GPU frames: $size -> $((4 * w))x$((4 * h)) $way frames into dsfn on $dev: $fps output frames/s"
        a= b=
    done
    if [ $has_cuda = yes ]; then
        # Frames from a device on FFmpeg's own context are copied into LibTorch's; on
        # the primary context (made by FFmpeg before LibTorch starts it) they are read
        # in place: both ways of dsfn_cuda.c.
        for ctx in "gpu:copied" "gpu:0,primary_ctx=1:read in place"; do
            spec=${ctx%:*} how=${ctx##*:}
            psnr=$("$ffmpeg" -nostdin -hide_banner -init_hw_device "cuda=$spec" -filter_hw_device gpu -i "$clip" \
                -filter_complex "[0:v]trim=end_frame=$frames_short,format=yuv444p,setparams=colorspace=bt709:range=tv,split[a][b];[a]hwupload_cuda,dsfn=device=$dev:precision=fp32,hwdownload,format=yuv444p,format=gbrp[x];[b]dsfn=device=$dev:precision=fp32[y];[x][y]psnr" \
                -f null - 2>&1 | sed -n 's/.*PSNR .*average:\([0-9.inf]*\).*/\1/p' | tail -n 1)
            say "GPU frames: $size, CUDA frames ($how) against software frames, fp32: PSNR ${psnr:-failed} dB (>= 45 wanted)"
        done
    fi
done

# --- 6. Train width 64 for the time left --------------------------------------------
from=$(sed -n 's/^steps done: //p' model/weights/dsfn-w16.dsfn.recipe)
train_seconds=$(($(left) - 40))
if [ $mode = cpu ] || [ $train_seconds -ge 30 ]; then
    minutes=$(awk -v s=$train_seconds 'BEGIN { printf "%.2f", (s > 0 ? s / 60 : 0) }')
    say "training width $wide for $minutes min from step $from"
    # shellcheck disable=SC2086
    "$trainer" --photos "$data/photos" --clips "$data/clips" --checkpoint "$build/ckpt-w$wide" \
        --out "$out/dsfn-w$wide.dsfn" --init "$build/dsfn-w$wide-init.dsfn" --width $wide \
        --steps $((from + 100000)) --schedule-from "$from" --lr 1e-4 --seed 64 \
        --clip-fraction 0.75 --noise 0 --bicubic-a -0.6 --threads "$jobs" --minutes "$minutes" \
        $train_args > "$out/train.log" 2>&1 || { tail -n 20 "$out/train.log"; die "training failed"; }
    grep '^step' "$out/train.log" | tail -n 3 | tee -a "$summary"
    say "$(tail -n 1 "$out/train.log")"
else
    say "training skipped: $train_seconds s left"
fi
say "done in $(elapsed) s"
exit $e2e_rc
