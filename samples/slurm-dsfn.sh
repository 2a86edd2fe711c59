#!/bin/bash
# One long video through dsfn on a Slurm cluster: a plan, an array job with one
# task per segment, and a join that waits for them all. Every node needs the same
# build (ffmpeg with dsfn, its model) and a folder shared with this one (WORKDIR).
#
#   samples/slurm-dsfn.sh INPUT OUTPUT WORKDIR [SEGMENT_FRAMES] [-- OUTPUT OPTIONS]
#
# e.g. samples/slurm-dsfn.sh /scratch/in.mkv /scratch/out.mkv /scratch/work 500 -- -c:v ffv1
# DSFN_FILTER sets the filter (default: dsfn, the shipped default model).
# The joined OUTPUT is the same as one `dsfn-parallel` run (and as one ffmpeg run
# with dsfn=threads=1). A task that fails can be run again with the same command
# line (sbatch --array=I ...): finished segments are kept in WORKDIR.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
input=$1 output=$2 workdir=$3
shift 3
frames=250
if [ $# -gt 0 ] && [ "$1" != -- ]; then frames=$1; shift; fi
[ "${1:-}" = -- ] && shift

DSFN_PARALLEL=${DSFN_PARALLEL:-dsfn-parallel}
DSFN_FILTER=${DSFN_FILTER:-dsfn}
SBATCH=${SBATCH:-sbatch}

# 1. The plan: frame timestamps and segments, written into WORKDIR.
"$DSFN_PARALLEL" --plan --workdir "$workdir" --filter "$DSFN_FILTER" --segment-frames "$frames" "$input" "$output" -- "$@"
segments=$(wc -l < "$workdir/plan.tsv")

# 2. One task per segment; each runs the same per-segment command as GNU parallel
#    does (dsfn-parallel --run-segment: dsfn-segment with that segment's range).
array=$("$SBATCH" --parsable --job-name=dsfn-segments --array=0-$((segments - 1)) --cpus-per-task=1 \
    --output="$workdir/slurm-%a.out" --wrap="$DSFN_PARALLEL --run-segment \$SLURM_ARRAY_TASK_ID --workdir '$workdir'")

# 3. The join, once every task has ended well.
"$SBATCH" --parsable --job-name=dsfn-join --dependency=afterok:"$array" --output="$workdir/slurm-join.out" \
    --wrap="$DSFN_PARALLEL --join --workdir '$workdir'"
echo "submitted $segments segment tasks (job $array) and the join; the output appears as $output"
