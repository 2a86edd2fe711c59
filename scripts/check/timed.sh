#!/bin/sh
# Run a command and print how long it took, as "timed: LABEL: N s" (or "... N s,
# failed with status S"), so that CI's log gives the time of every step.
#   scripts/check/timed.sh LABEL COMMAND...
# With DSFN_TIMES=FILE the line is appended to FILE too (.ci/run's summary).
label=$1
shift
start=$(date +%s)
"$@"
status=$?
line="timed: $label: $(($(date +%s) - start)) s"
[ $status = 0 ] || line="$line, failed with status $status"
echo "$line"
[ -z "${DSFN_TIMES:-}" ] || echo "$line" >> "$DSFN_TIMES"
exit $status
