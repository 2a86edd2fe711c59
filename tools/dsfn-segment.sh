#!/bin/sh
# One segment of a dsfn-parallel job: decode a stretch of INPUT, run the filter over
# it with its frames of context, keep the outputs of the segment's own frames (by
# their exact timestamps) and encode them. The same command runs locally, on an ssh
# host (GNU parallel) or in a batch job (samples/slurm-dsfn.sh).
#
#   dsfn-segment FFMPEG INPUT OUTPUT SEEK OFFSET IN_START IN_END OUT_START OUT_END FILTER [OUTPUT OPTIONS...]
#
# SEEK     seconds from the start of INPUT to seek to before decoding (0: none); a
#          point before the first context frame, so no frame is lost to it.
# OFFSET   added to every input timestamp: the shift ffmpeg applies to INPUT in a
#          single run (minus its start time), so the timestamps are that run's.
# IN_*     the input pts range run through the filter, context included; OUT_* the
#          output pts range kept (the segment's own frames). An END of '-' is open.
# OUTPUT is written under a temporary name and renamed when complete.
set -eu
if [ $# -lt 10 ]; then
    echo "usage: dsfn-segment FFMPEG INPUT OUTPUT SEEK OFFSET IN_START IN_END OUT_START OUT_END FILTER [OUTPUT OPTIONS...]" >&2
    exit 2
fi
ffmpeg=$1 input=$2 output=$3 seek=$4 offset=$5 in_start=$6 in_end=$7 out_start=$8 out_end=$9 filter=${10}
shift 10

range() { # start end -> a trim filter
    if [ "$2" = - ]; then echo "trim=start_pts=$1"; else echo "trim=start_pts=$1:end_pts=$2"; fi
}
graph="$(range "$in_start" "$in_end"),$filter,$(range "$out_start" "$out_end")"
[ "$offset" = 0 ] || graph="setpts=PTS+($offset),$graph"

case $output in
    */*) dir=${output%/*} name=${output##*/} ;;
    *) dir=. name=$output ;;
esac
partial="$dir/.partial-$name"
# -copyts keeps INPUT's own timestamps through the seek; -noaccurate_seek keeps
# every frame from the keyframe before SEEK, which the trims then cut exactly.
if [ "$seek" = 0 ]; then
    set -- -copyts -i "$input" "$@"
else
    set -- -copyts -ss "$seek" -noaccurate_seek -i "$input" "$@"
fi
"$ffmpeg" -nostdin -hide_banner -loglevel error -y "$@" -map 0:V:0 -an -sn -dn -filter:v "$graph" "$partial"
mv -f "$partial" "$output"
