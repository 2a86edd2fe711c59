#!/bin/sh
# Run a command (the test suites of an ASan + UBSan build) with the sanitizers
# set to report into files, then fail if any report was written.
#   scripts/check/run-sanitized.sh BUILD_DIR COMMAND...
# Reports go to files rather than stderr because the error-path tests expect a
# non-zero exit anyway: a report there must not pass unnoticed.
set -u
build=$1
shift
reports="$(cd "$build" && pwd)/sanitizer-reports"
supp="$(cd "$(dirname "$0")/../.." && pwd)/tests/sanitizers"
rm -rf "$reports"
mkdir -p "$reports"

# allocator_may_return_null: the "output too large" test asks for an impossible
# allocation and expects the filter's ENOMEM, as without ASan.
# abort_on_error: an error ends the process with SIGABRT, which every test counts
# as a crash (UBSan's reports go to stderr, not log_path, when ASan is linked too).
export ASAN_OPTIONS="log_path=$reports/asan:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1:abort_on_error=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
# Check forks every unit test, and under the sanitizers even a trivial one takes
# 1.3-1.6 s to run and exit (the timeline suite's 8 tests: 10.6 s idle, 12.7 s
# with leak checks): on a busy 2-core machine one outlived Check's default 4 s.
# Give every timeout 4x the room here.
export CK_TIMEOUT_MULTIPLIER=4

"$@"
status=$?

found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
    for f in $found; do
        echo "=== sanitizer report $f"
        head -n 60 "$f"
    done
    echo "run-sanitized: $(echo "$found" | wc -l) sanitizer report(s); see $reports"
    exit 1
fi
[ $status = 0 ] && echo "run-sanitized: no sanitizer reports"
exit $status
