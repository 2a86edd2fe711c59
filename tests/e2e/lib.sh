# Sourced by the end-to-end suites (run.sh, parallel.sh) first: where the build
# and the repository are, a scratch folder removed on exit, and the tally every
# check reports to. The suite sets `suite` (the scratch folder's prefix) before,
# and its own first argument, BUILD_DIR, is read here: dash passes no arguments
# to a sourced file, so none are given.
#   suite=NAME; . tests/e2e/lib.sh
# Sets build, top, ffmpeg, ffprobe, tool, work and limit; defines pass, fail and
# finish, which prints "N passed, N failed" and fails when any check did.
build=$(cd "${1:-build}" && pwd) || { echo "no build folder '${1:-build}'"; exit 1; }
top=$(cd "$(dirname "$0")/../.." && pwd)
ffmpeg=$build/bin/ffmpeg
ffprobe=$build/bin/ffprobe
tool=$build/bin/dsfn-tool
# Every test writes under $work: without one, stop rather than write elsewhere.
work=$(mktemp -d "${TMPDIR:-/tmp}/$suite.XXXXXX") && [ -d "$work" ] ||
    { echo "cannot make a scratch folder in ${TMPDIR:-/tmp}"; exit 1; }
trap 'rm -rf "$work"' EXIT
# precision=auto caches what it measured under XDG_CACHE_HOME: the tests' own, not the user's.
export XDG_CACHE_HOME="$work/cache"
limit=300 # seconds any one command may take before it counts as a hang

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
# fail NAME [DETAILS]: the details' last lines, indented, say why.
fail() { failed=$((failed + 1)); echo "FAIL: $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    /' | tail -n 15; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
