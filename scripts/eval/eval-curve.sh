#!/bin/sh
# Quality against training time: every snapshot the trainer wrote (dsfn-train
# --snapshots DIR, listed in DIR/snapshots.txt) through scripts/eval/eval.sh, as the
# overall PSNR over the best plain-FFmpeg chain of each clip, then a gnuplot plot.
# Snapshots run with edge_mirror=0, as before the filter mirrored edges by default,
# so every point of a series is comparable.
#   eval-curve.sh BUILD_DIR CACHE_DIR MAX_KEYFRAMES OUT_DIR SNAPSHOT_DIR ...
# Writes OUT_DIR/curve.dat ("width hours step loss gain_balle1 gain_openshot
# gain_jbart mean_gain", dB) and OUT_DIR/curve.png. Resumable: snapshots already
# in curve.dat are not evaluated again. The series is named by the directory:
# snapshots-w16 is width 16; snapshots-w16to32 a width-16 model widened to 32
# (dsfn-tool widen) and trained on; words after a dash describe a variant
# (snapshots-w16-half-clips: "width 16, half clips").
set -eu
build=$1 cache=$2 keys=$3 out=$4
shift 4
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
dat=$out/curve.dat
best=$out/classic-best.txt

# Best plain-FFmpeg chain per clip (overall PSNR; not the reference row), once per MAX_KEYFRAMES.
if [ ! -f "$best" ] || [ "$(head -n 1 "$best")" != "keyframes $keys" ]; then
    EVAL_CLASSIC=1 "$top/scripts/eval/eval.sh" "$build" "$cache" "$keys" - 2>/dev/null |
        awk -v k="$keys" 'NR > 1 && $2 != "ref:" { if (!($1 in b) || $(NF - 1) > b[$1]) b[$1] = $(NF - 1) }
                         END { print "keyframes " k; for (c in b) print c, b[c] }' > "$best.tmp"
    mv "$best.tmp" "$best"
    rm -f "$dat"
fi
[ -f "$dat" ] || echo "# width hours step loss gain_balle1 gain_openshot gain_jbart mean_gain (dB over the best plain-FFmpeg chain, $keys keyframes)" > "$dat"

for dir in "$@"; do
    while read -r step hours loss file; do
        width=$(basename "$dir" | sed 's/^snapshots-w//')
        awk -v w="$width" -v s="$step" '$1 == w && $3 == s { found = 1 } END { exit !found }' "$dat" && continue
        EVAL_CLASSIC=0 "$top/scripts/eval/eval.sh" "$build" "$cache" "$keys" - "$dir/$file:edge_mirror=0" 2>/dev/null |
            awk -v w="$width" -v h="$hours" -v s="$step" -v l="$loss" -v bestf="$best" '
                BEGIN { while ((getline line < bestf) > 0) { split(line, f, " "); b[f[1]] = f[2] } }
                NR > 1 { g[$1] = $(NF - 1) - b[$1]; n++ }
                END { if (n != 3) { print "eval-curve: a clip failed" > "/dev/stderr"; exit 1 }
                      printf "%s %s %s %s %.3f %.3f %.3f %.3f\n", w, h, s, l, g["balle1"], g["openshot"], g["jbart"],
                             (g["balle1"] + g["openshot"] + g["jbart"]) / 3 }' >> "$dat"
        tail -n 1 "$dat"
    done < "$dir/snapshots.txt"
done

# One line per width, sorted by training time.
sort -n -k1,1 -k2,2 "$dat" | grep -v '^#' > "$dat.sorted"
widths=$(cut -d' ' -f1 "$dat.sorted" | sort -u)
plots=
for w in $widths; do
    title="width $(echo "$w" | sed 's/^\([0-9]*\)to\([0-9]*\)/\1, widened to \2/; s/-/, /; s/-/ /g')"
    plots="$plots${plots:+, }'< grep \"^$w \" $dat.sorted' using 2:8 with linespoints title '$title'"
done
off=$(awk '$8 < -1.5 { printf "%s%.1f dB (width %s at %.1f h)", sep, $8, $1, $2; sep = ", " }' "$dat.sorted")
gnuplot <<EOF
set terminal png size 800,440
set output '$out/curve.png'
set title 'dsfn against the best plain-FFmpeg chain (mean of 3 clips, first $keys input frames)'
set xlabel 'training time, hours (2-core CPU)'
set ylabel 'overall PSNR gain, dB'
set grid
set key bottom right font ',8' spacing 0.9
# The untrained networks sit far below the chains: off the chart, so that the
# trained part is readable.
set yrange [-1.5:4]
set label 'below the chart: $off' at graph 0.02, graph 0.04 font ',9'
plot $plots, 0 with lines dashtype 2 lc rgb 'gray' title 'best plain-FFmpeg chain', \
     2 with lines dashtype 3 lc rgb 'red' title 'target +2 dB'
EOF
rm -f "$dat.sorted"
echo "wrote $dat and $out/curve.png"
