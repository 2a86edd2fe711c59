#!/bin/sh
# Which precisions precision=auto may choose for a model: scripts/eval/eval.sh runs
# each MODEL in fp32, bf16 and, where MODEL.int8 is beside it, int8 (fp16 needs a
# GPU: EVAL_PRECISIONS="bf16 fp16" with a CUDA build and EVAL_DEVICE=cuda), then the
# "precisions" line of MODEL.recipe lists fp32 and every precision whose overall
# PSNR is within 0.05 dB of fp32's on every clip. The engine reads that line; it
# measures speed itself.
#   eval-precisions.sh BUILD_DIR CACHE_DIR MAX_KEYFRAMES MODEL...
set -eu
build=$1 cache=$2 max_key=$3
shift 3
[ $# -gt 0 ] || { echo "eval-precisions.sh: no MODEL given" >&2; exit 1; }
device=${EVAL_DEVICE:+:device=$EVAL_DEVICE}
bar=0.05
top=$(cd "$(dirname "$0")/../.." && pwd)
for model in "$@"; do
    [ -f "$model" ] || { echo "eval-precisions.sh: no file $model" >&2; exit 1; }
    others=bf16
    [ ! -f "$model.int8" ] || others="bf16 int8"
    others=${EVAL_PRECISIONS:-$others}
    specs="$model:precision=fp32$device"
    for p in $others; do specs="$specs $model:precision=$p$device"; done
    # shellcheck disable=SC2086
    rows=$(EVAL_CLASSIC=0 "$top/scripts/eval/eval.sh" "$build" "$cache" "$max_key" - $specs)
    echo "$rows"
    # Per clip, the overall PSNR ("all dB", the next to last column) of each precision.
    listed=$(echo "$rows" | awk -v others="$others" -v bar=$bar '
        { for (i = 1; i <= NF; i++) if ($i ~ /^precision=/) { p = substr($i, 11); psnr[$1, p] = $(NF - 1); clips[$1] = 1 } }
        END {
            n = split(others, list, " ")
            out = "fp32"
            for (k = 1; k <= n; k++) {
                ok = 1; seen = 0
                for (c in clips) {
                    if (!((c, "fp32") in psnr) || !((c, list[k]) in psnr)) { ok = 0; continue }
                    seen++
                    d = psnr[c, list[k]] - psnr[c, "fp32"]
                    if (d < -bar || d > bar) ok = 0
                }
                if (ok && seen) out = out " " list[k]
            }
            print out
        }')
    recipe=$model.recipe
    kept=$( [ -f "$recipe" ] && grep -v -e '^precisions:' -e '^# precisions:' "$recipe" || true)
    {
        [ -z "$kept" ] || printf '%s\n' "$kept"
        echo "# precisions: fp32 and those within $bar dB of its PSNR on every clip of make eval" \
             "(scripts/eval/eval-precisions.sh, $(date -u +%Y-%m-%d), $max_key keyframes); precision=auto picks among them"
        echo "precisions: $listed"
    } > "$recipe.new"
    mv "$recipe.new" "$recipe"
    echo "$recipe: precisions: $listed"
done
