#!/bin/sh
# The options of a shipped model's next training cycle, read from its recipe: the
# recipe's last command again, for CYCLE more steps from where it stopped (a warm
# restart of the cosine schedule there), with the next seed. make train uses it, so
# the state of the training lives in the recipe, not in the Makefile.
#   next-cycle.sh RECIPE [CYCLE]      CYCLE: steps per cycle [9000]
set -eu
recipe=$1 cycle=${2:-9000}
cmd=$(sed -n 's/^command: dsfn-train //p' "$recipe" 2>/dev/null || true)
done_steps=$(sed -n 's/^steps done: //p' "$recipe" 2>/dev/null || true)
if [ -z "$cmd" ] || [ -z "$done_steps" ]; then
    echo "next-cycle: '$recipe' has no 'command:' or 'steps done:' line" >&2
    exit 1
fi
seed=0 rest=
# shellcheck disable=SC2086
set -- $cmd
while [ $# -ge 2 ]; do
    case $1 in
        --steps|--schedule-from) ;;
        --width|--clips) ;; # make train gives these
        --int8-ranges|--teacher) ;; # make train-int8 gives these; make train learns the truth in float
        --seed) seed=$2 ;;
        *) rest="$rest $1 $2" ;;
    esac
    shift 2
done
echo "--steps $((done_steps + cycle)) --schedule-from $done_steps --seed $((seed + 1))$rest"
