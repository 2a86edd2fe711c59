#!/bin/sh
# How much of a model's keyframe quality comes from the neighbouring frames. Each
# input frame of the evaluation is repeated five times, so that the window of its
# middle copy (input frames i-2..i+2) holds that frame alone, and the keyframe outputs
# of the middle copies are scored. Keyframes only, PSNR / SSIM on 8-bit RGB averaged
# over the frames that scripts/eval/eval.sh scores, beside:
#   lanczos+unsharp0.6   each input frame alone, as the best chains upscale it
#   dsfn, frame alone    the model on the repeated frames
#   dsfn                 the model on the real sequence (eval.sh's keyframe column)
#   ref: truth, no blur  the truth reduced 4x without blur, lanczos back
#   eval-frames-alone.sh BUILD_DIR CACHE_DIR MODEL
# Reads the inputs and truths that scripts/eval/eval.sh left in CACHE_DIR/work (run it
# first with the same MAX_KEYFRAMES and EVAL_REDUCE).
set -eu
build=$(cd "$1" && pwd) work=$2/work model=$3 reduce=${EVAL_REDUCE:-flags=bicubic}
ffmpeg="$build/bin/ffmpeg -nostdin -hide_banner -nostats -loglevel error -y"
ffprobe="$build/bin/ffprobe -v error"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/score.sh"

printf '%-9s %-32s %8s %7s\n' clip "keyframes of" "key dB" SSIM
for input in "$work"/*-input.mkv; do
    name=$(basename "$input" -input.mkv)
    truth=$work/$name-truth.mkv
    [ -f "$truth" ] || continue
    n=$($ffprobe -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$input")
    keys=$((n - 1)) # eval.sh leaves out the last output pair
    every_other="setpts=N/TB,select='not(mod(n\\,2))',setpts=N/TB"
    $ffmpeg -i "$truth" -vf "$every_other" -c:v ffv1 "$tmp/truth.mkv"
    $ffmpeg -i "$input" -vf "setpts=N/TB,scale=iw*4:ih*4:flags=lanczos,unsharp=5:5:0.6" -c:v ffv1 "$tmp/lanczos.mkv"
    # Five copies of every frame (timestamps 5 s apart, filled at 1 fps); the middle
    # copy of frame k is input 5k+2, its keyframe output 10k+4.
    $ffmpeg -i "$input" -vf "setpts=N*5/TB,fps=1" -c:v ffv1 "$tmp/copies.mkv"
    $ffmpeg -i "$tmp/copies.mkv" -vf "dsfn=model=$model:precision=fp32,setpts=N/TB,select='eq(mod(n\\,10)\\,4)',setpts=N/TB" \
        -fps_mode passthrough -c:v ffv1 "$tmp/alone.mkv"
    $ffmpeg -i "$input" -vf "dsfn=model=$model:precision=fp32,$every_other" -fps_mode passthrough -c:v ffv1 "$tmp/sequence.mkv"
    $ffmpeg -i "$tmp/truth.mkv" -vf "scale=iw/4:ih/4:$reduce,scale=iw*4:ih*4:flags=lanczos" -c:v ffv1 "$tmp/reference.mkv"
    for row in "lanczos|lanczos+unsharp0.6, frame alone" "alone|dsfn, frame alone" "sequence|dsfn" \
               "reference|ref: truth, no blur, lanczos"; do
        set -- $(score "$tmp/${row%%|*}.mkv" "$tmp/truth.mkv" $keys "$tmp")
        printf '%-9s %-32s %8s %7s\n' "$name" "${row#*|}" "$5" "$6" # all frames here are keyframes
    done
done
