#!/bin/sh
# Quality evaluation (docs/EVAL-PROTOCOL.md: the paper's section 4.1 protocol) through
# the built ffmpeg: dsfn against the chains a user could run with plain FFmpeg.
#   eval.sh BUILD_DIR CACHE_DIR MAX_KEYFRAMES PICTURES_DIR [MODEL ...]
#
# From a sharp clip S_j: blurry input k = mean of L sharp frames centred on
# S_{m k}, reduced 4x (bicubic); ground truth for output 2k is S_{m k}, for
# 2k+1 S_{m k + m/2}. PSNR and SSIM on 8-bit RGB, for keyframes, in-between
# frames and all, averaged over frames. The last pair of outputs is left out
# for every method: its in-between frame lies past the last input.
#
# Each MODEL (a weights file, optionally followed by :dsfn options, e.g.
# model.dsfn:precision=bf16) gets a row "dsfn NAME". It runs in fp32 unless its
# options name a precision: the filter's default (auto) depends on the machine. EVAL_CLASSIC=0 leaves out
# the plain-FFmpeg chains and the reference row (the truth reduced without blur,
# lanczos back: not a chain, an aid to reading the others). EVAL_REDUCE (default
# "flags=bicubic") sets the options of the 4x reduction, e.g.
# "flags=bicubic:param0=0:param1=0.5" for Keys' a = -0.5. EVAL_BLUR=L (odd) blurs
# every clip over L sharp frames instead of its own L; EVAL_BLUR=1 leaves the blur
# out, so the rows show what super-resolution and interpolation alone score.
# EVAL_PAD=P:MODE runs each MODEL on inputs grown by P pixels a side, filled by
# `fillborders` in MODE (mirror, reflect, smear), and crops the output back, with
# the filter's own edge_mirror off unless MODEL's options set it: it shows how
# much the network loses at the picture's edges. EVAL_SET=heldout scores
# libopenshot's run.mp4 instead of the evaluation clips: neither training nor any
# choice made on the evaluation has seen it.
# Unless PICTURES_DIR is "-", it receives CLIP.png per
# clip: a crop of a keyframe (top) and the in-between frame after it (bottom),
# left to right bicubic+blend / lanczos+mci+unsharp0.6 / the first MODEL / truth.
set -eu
build=$(cd "$1" && pwd) cache=$2 max_key=$3 pictures=$4 reduce=${EVAL_REDUCE:-flags=bicubic}
shift 4
case $max_key in
*[!0-9]* | '' | 0 | 1) echo "eval.sh: MAX_KEYFRAMES must be a number of at least 2, not '$max_key'" >&2; exit 1 ;;
esac
blur=${EVAL_BLUR:-}
case $blur in
'') ;;
*[!0-9]* | *[02468]) echo "eval.sh: EVAL_BLUR must be an odd number of frames, not '$blur'" >&2; exit 1 ;;
esac
case ${EVAL_SET:-} in
'' | heldout) ;;
*) echo "eval.sh: EVAL_SET must be empty or heldout, not '$EVAL_SET'" >&2; exit 1 ;;
esac
pad= unpad= own_mirror=
if [ -n "${EVAL_PAD:-}" ]; then
    p=${EVAL_PAD%%:*} mode=${EVAL_PAD#*:} valid=
    case $p in [1-9] | [1-9][0-9]) case $mode in mirror | reflect | smear) valid=1 ;; esac ;; esac
    if [ -z "$valid" ]; then
        echo "eval.sh: EVAL_PAD must be P:MODE, P 1-99 pixels, MODE mirror, reflect or smear, not '$EVAL_PAD'" >&2
        exit 1
    fi
    pad="pad=iw+$((2 * p)):ih+$((2 * p)):$p:$p,fillborders=left=$p:right=$p:top=$p:bottom=$p:mode=$mode,"
    unpad=",crop=iw-$((8 * p)):ih-$((8 * p)):$((4 * p)):$((4 * p))"
    own_mirror=":edge_mirror=0"
fi
ffmpeg="$build/bin/ffmpeg -nostdin -hide_banner -nostats -loglevel error -y"
ffprobe="$build/bin/ffprobe -v error"
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/scripts/eval/fetch-eval-clips.sh" "$cache" > /dev/null
work=$cache/work
mkdir -p "$work"
[ "$pictures" = - ] || mkdir -p "$pictures"

# clip | file | m | L (blur, sharp frames) | prescale (hides compression) | crop w:h:x:y of the truth | protocol
clips='
balle1|balle1-vp9.avi|8|11|1|160:120:120:60|the paper: ~187 fps footage, m = 8, 11-frame blur
openshot|openshot-test.avi|2|3|2|160:88:80:44|30 fps handheld pan, m = 2, 3-frame blur
jbart|balle-jbart.mp4|2|3|2|180:144:90:72|25 fps, m = 2, 3-frame blur
'
# EVAL_SET=heldout: a clip that neither training nor the choices above have seen,
# to check a setting chosen on the evaluation clips (the source of samples/).
[ "${EVAL_SET:-}" != heldout ] || clips='
run|openshot-run.mp4|2|3|2|180:100:90:50|held out: 29.97 fps, m = 2, 3-frame blur
'

. "$top/scripts/eval/score.sh"
. "$top/scripts/eval/chains.sh"

# Side-by-side crops of output frames 2k (keyframe) and 2k+1 (in-between), 2x nearest-neighbour.
crops() { # out.png k crop naive.mkv classic.mkv dsfn.mkv truth.mkv
    png=$1 k=$2 crop=$3
    shift 3
    graph= i=0
    for f in "$@"; do
        graph="$graph[$i:v]setpts=N/TB,select='between(n\\,$((2 * k))\\,$((2 * k + 1)))',crop=$crop,scale=iw*2:ih*2:flags=neighbor,split[k$i][m$i];[k$i]trim=end_frame=1[key$i];[m$i]trim=start_frame=1,setpts=N/TB[mid$i];"
        i=$((i + 1))
    done
    # shellcheck disable=SC2046
    $ffmpeg $(for f in "$@"; do printf -- '-i %s ' "$f"; done) -filter_complex \
        "$graph[key0][key1][key2][key3]hstack=4[top];[mid0][mid1][mid2][mid3]hstack=4[bottom];[top][bottom]vstack,format=rgb24" \
        -frames:v 1 -update 1 "$png"
}

printf '%-9s %-30s %8s %7s %8s %7s %8s %7s\n' clip method "key dB" SSIM "mid dB" SSIM "all dB" SSIM
echo "$clips" | while IFS='|' read -r name file m L pre crop what; do
    [ -n "$name" ] || continue
    [ -z "$blur" ] || { L=$blur what="$what, here EVAL_BLUR=$blur"; }
    h=$(( (L - 1) / 2 ))
    rate=$($ffprobe -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$cache/clips/$file")
    # Sharp frames at a size whose quarter is whole, lossless.
    $ffmpeg -i "$cache/clips/$file" -vf "scale=trunc(iw/$pre/8)*8:trunc(ih/$pre/8)*8:flags=lanczos,format=gbrp" \
        -c:v ffv1 "$work/$name-sharp.mkv"
    frames=$($ffprobe -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$work/$name-sharp.mkv")
    n=$(( (frames - L) / m + 1 ))
    [ $n -ge 2 ] || { echo "eval.sh: $name: $frames frames are too few for m = $m and a $L-frame blur" >&2; exit 1; }
    [ $n -gt "$max_key" ] && n=$max_key
    # Blurry low-resolution input: mean of L frames ending at L-1+mk, i.e. centred on h+mk.
    $ffmpeg -i "$work/$name-sharp.mkv" -vf "tmix=frames=$L,select='gte(n\,$((L - 1)))*not(mod(n-$((L - 1))\,$m))',scale=iw/4:ih/4:$reduce,setpts=N*$m/($rate)/TB" \
        -frames:v $n -c:v ffv1 "$work/$name-input.mkv"
    # Ground truth: S_{h+mk} and S_{h+mk+m/2}, interleaved.
    $ffmpeg -i "$work/$name-sharp.mkv" -vf "select='gte(n\,$h)*(not(mod(n-$h\,$m))+eq(mod(n-$h\,$m)\,$((m / 2))))',setpts=N/TB" \
        -frames:v $((2 * n)) -c:v ffv1 "$work/$name-truth.mkv"
    in_rate=$($ffprobe -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$work/$name-input.mkv")
    out_rate="$(echo "$in_rate" | awk -F/ '{ print $1 * 2 "/" ($2 ? $2 : 1) }')"
    used=$((2 * n - 2))
    echo "# $name: $what; $n input frames of $($ffprobe -show_entries stream=width,height -of csv=s=x:p=0 "$work/$name-input.mkv"), $used outputs scored" >&2

    mci=$(mci_chain "$out_rate")
    methods=
    if [ "${EVAL_CLASSIC:-1}" != 0 ]; then
        methods="naive|naive bicubic+blend|scale=iw*4:ih*4:flags=bicubic,framerate=fps=$out_rate:interp_start=0:interp_end=255:scene=100
classic|lanczos+mci|$mci,scale=iw*4:ih*4:flags=lanczos
unsharp06|lanczos+mci+unsharp0.6|$(best_classic_chain "$out_rate")
unsharp12|lanczos+mci+unsharp1.2|$mci,scale=iw*4:ih*4:flags=lanczos,unsharp=5:5:1.2"
    fi
    i=0
    for spec in "$@"; do
        model=${spec%%:*} opts=
        [ "$model" = "$spec" ] || opts=${spec#*:}
        methods="$methods
dsfn$i|dsfn $(basename "$model" .dsfn)${opts:+ $opts}${EVAL_PAD:+ pad $EVAL_PAD}|${pad}dsfn=model=$model$own_mirror:precision=fp32${opts:+:$opts}$unpad"
        i=$((i + 1))
    done
    # The reference row is not a chain anyone can run (it starts from the truth): the
    # truth reduced 4x as the input is, without blur, and scaled back with lanczos. It
    # shows how much of each clip's loss is blur and motion and how much resolution.
    [ "${EVAL_CLASSIC:-1}" = 0 ] || methods="$methods
reference|ref: truth, no blur, lanczos|truth:scale=iw/4:ih/4:$reduce,scale=iw*4:ih*4:flags=lanczos"
    echo "$methods" | while IFS='|' read -r key label graph; do
        [ -n "$key" ] || continue
        source=input
        case $graph in truth:*) source=truth graph=${graph#truth:} ;; esac
        $ffmpeg -i "$work/$name-$source.mkv" -vf "$graph" -fps_mode passthrough -c:v ffv1 "$work/$name-$key.mkv"
        got=$($ffprobe -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$work/$name-$key.mkv")
        if [ "$got" -lt "$used" ]; then
            echo "$name $label: only $got frames out of $used" >&2
            continue
        fi
        set -- $(score "$work/$name-$key.mkv" "$work/$name-truth.mkv" $used "$work")
        printf '%-9s %-30s %8s %7s %8s %7s %8s %7s\n' "$name" "$label" "$1" "$2" "$3" "$4" "$5" "$6"
    done
    if [ "$pictures" != - ] && [ -f "$work/$name-naive.mkv" ] && [ -f "$work/$name-dsfn0.mkv" ]; then
        crops "$pictures/$name.png" $((n / 2)) "$crop" "$work/$name-naive.mkv" "$work/$name-unsharp06.mkv" \
            "$work/$name-dsfn0.mkv" "$work/$name-truth.mkv"
    fi
    rm -f "$work/$name"-naive.mkv "$work/$name"-classic.mkv "$work/$name"-unsharp*.mkv "$work/$name"-dsfn*.mkv \
        "$work/$name"-reference.mkv
done
