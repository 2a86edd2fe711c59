#!/bin/sh
# Enhance every video in a folder with dsfn, keeping audio and subtitles.
#   samples/batch-enhance.sh INPUT_DIR OUTPUT_DIR [MODEL] [FFMPEG]
# MODEL: a weights file or a shipped model's name (default: the filter's default).
# IN_DIR/NAME.EXT becomes OUTPUT_DIR/NAME.mkv, or NAME.EXT.mkv when another input
# has the same NAME. Nothing is ever replaced: the output folder must not be the
# input folder, and an output that exists already is skipped (remove it to redo
# it), so a rerun finishes an interrupted batch. Outputs appear only when
# complete. Subtitles Matroska cannot hold as they are (mov_text from mp4 and
# mov files, and other text formats) are converted to SubRip; one that is
# neither is left out with a warning. A failed file is reported and the batch
# goes on; the exit status says whether every file succeeded.
set -u
. "$(dirname "$0")/filter-escape.sh"
if [ $# -lt 2 ] || [ $# -gt 4 ]; then
    echo "usage: $0 INPUT_DIR OUTPUT_DIR [MODEL] [FFMPEG]" >&2
    exit 2
fi
in_dir=$1 out_dir=$2 model=${3:-}
ffmpeg=${4:-$(dirname "$0")/../build/bin/ffmpeg}
ffprobe=$(dirname "$ffmpeg")/ffprobe
[ -x "$ffprobe" ] || ffprobe=ffprobe
[ -d "$in_dir" ] || { echo "$0: $in_dir is not a folder" >&2; exit 2; }
mkdir -p "$out_dir" || exit 2
if [ "$(cd "$in_dir" && pwd -P)" = "$(cd "$out_dir" && pwd -P)" ]; then
    echo "$0: the output folder is the input folder; give another one (nothing was written)" >&2
    exit 2
fi
vf="dsfn${model:+=model=$(filter_value "$model")},format=yuv420p"

stem_of() { b=$(basename "$1"); s=${b%.*}; echo "${s:-$b}"; }
shares_stem() { # FILE: another input has FILE's stem
    for g in "$in_dir"/*; do
        [ -f "$g" ] && [ "$g" != "$1" ] && [ "$(stem_of "$g")" = "$(stem_of "$1")" ] && return 0
    done
    return 1
}
claimed=$(printf '\n/')     # outputs of this run, one per line
claim() { case $claimed in *"
$1
"*) return 1 ;; esac; claimed="$claimed
$1
"; }

failed=0
for f in "$in_dir"/*; do
    [ -f "$f" ] || continue
    name=$(stem_of "$f")
    shares_stem "$f" && name=$(basename "$f")
    out="$out_dir/$name.mkv"
    n=1
    while ! claim "$out"; do out="$out_dir/$name-$n.mkv"; n=$((n + 1)); done
    if [ -e "$out" ]; then
        echo "exists: $f -> $out (kept; remove it to redo it)"
        continue
    fi
    # Subtitle streams: copied when Matroska holds them, text converted to SubRip
    # (-c:s:K, after the -c:s copy it overrides, for output subtitle stream K).
    set -- -map 0:v:0 -map 0:a? -c:a copy -c:s copy
    s=0 k=0
    for codec in $("$ffprobe" -v error -select_streams s -show_entries stream=codec_name -of csv=p=0 "$f"); do
        case $codec in
            subrip|ass|ssa|webvtt|dvd_subtitle|hdmv_pgs_subtitle|dvb_subtitle)
                set -- "$@" -map "0:s:$s"; k=$((k + 1)) ;;
            mov_text|text|microdvd|mpl2|jacosub|pjs|realtext|sami|stl|subviewer|subviewer1|vplayer|eia_608)
                set -- "$@" -map "0:s:$s" "-c:s:$k" srt; k=$((k + 1)) ;;
            *)
                echo "warning: $f: subtitle stream $s ($codec) cannot go into Matroska; left out" >&2 ;;
        esac
        s=$((s + 1))
    done
    if "$ffmpeg" -nostdin -hide_banner -loglevel error -y -i "$f" "$@" -vf "$vf" \
        -c:v libx264 -crf 18 -preset medium "$out.part.mkv"; then
        mv "$out.part.mkv" "$out"
        echo "ok:     $f -> $out"
    else
        rm -f "$out.part.mkv"
        echo "FAILED: $f" >&2
        failed=$((failed + 1))
    fi
done
[ $failed -eq 0 ]
