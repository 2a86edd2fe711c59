#!/bin/bash
# End-to-end tests of dsfn-parallel: its joined output is the single run's, frame
# for frame (pictures and timestamps, -f framemd5 on a lossless codec), over ssh
# too, through the Slurm sample's steps, and nothing is lost when a segment fails.
#   tests/e2e/parallel.sh BUILD_DIR
# Prints one line per check and "N passed, N failed" at the end; exits non-zero on failure.
set -u

suite=dsfn-parallel
. "$(dirname "$0")/lib.sh"
par=$build/bin/dsfn-parallel
sshd_pid=
cleanup() {
    [ -n "$sshd_pid" ] && kill "$sshd_pid" 2> /dev/null
    rm -rf "$work"
}
trap cleanup EXIT
ff() { timeout $limit "$ffmpeg" -nostdin -hide_banner -loglevel error -y "$@"; }

command -v parallel > /dev/null || { echo "GNU parallel is not installed"; exit 1; }
"$tool" init "$work/w4.dsfn" --width 4 --seed 1 --fp16 > /dev/null || { echo "cannot create the test model"; exit 1; }
filter="dsfn=model=$work/w4.dsfn"

# Every decoded frame with its own timestamp (framemd5 would re-time them at the nominal rate).
md5_of() { ff -i "$1" -map 0:v -fps_mode passthrough -enc_time_base:v demux -f framemd5 - 2> /dev/null | grep -v "^#software"; }
# The single run dsfn-parallel must equal: the same filter, threads=1 (its default).
single() { # input, output, extra filter options, output options... -> md5 lines
    local in=$1 out=$2 extra=$3
    shift 3
    ff -i "$in" -vf "$filter:threads=1$extra" -c:v ffv1 "$@" "$out" && md5_of "$out"
}
# Variable frame rate: exact timestamps (ffmpeg's default rounds them to 1/(2 x the
# nominal rate) and drops the frames that meet there).
vfr_opts=(-enc_time_base:v filter)
same() { # name, input, dsfn-parallel options... [-- output options]
    local name=$1 in=$2 out=$work/out-$RANDOM.mkv ref=$work/ref-$RANDOM.mkv extra= opts=() enc=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && { shift; enc=("$@"); }
    case " ${opts[*]} " in *mode=keyframes*) extra=:mode=keyframes ;; esac
    local want got
    want=$(single "$in" "$ref" "$extra" ${enc[@]+"${enc[@]}"})
    got=$(timeout $limit "$par" --workdir "$work/wd-$RANDOM" "${opts[@]}" "$in" "$out" -- -c:v ffv1 ${enc[@]+"${enc[@]}"} \
          2> "$work/log" > /dev/null &&
          md5_of "$out")
    local n
    last_out=$out
    n=$(echo "$want" | grep -c '^0,')
    [ -n "$want" ] && [ "$n" -gt 0 ] && [ "$got" = "$want" ] && pass "$name: $n frames, identical to one run" ||
        fail "$name: identical to one run ($n frames)" "$(cat "$work/log")
$(diff <(echo "$want") <(echo "$got") | head -n 8)"
}

# --- Inputs: lossless video, a scene cut, a timestamp gap, audio ------------------------
# 60 frames at 10 fps: testsrc2, then a cut at frame 30 to smptebars.
ff -f lavfi -i "testsrc2=size=32x24:rate=10,trim=end_frame=30" -f lavfi -i "smptebars=size=32x24:rate=10,trim=end_frame=30" \
   -f lavfi -i "sine=duration=6" -filter_complex "[0:v][1:v]concat=n=2:v=1:a=0[v]" -map "[v]" -map 2:a \
   -c:v ffv1 -c:a flac "$work/cut60.mkv"
# 13 frames, variable rate: a cut at frame 6 and a 2-second gap before frame 9 (both on
# boundaries of 3-frame segments, next to those of 2-frame ones).
ff -f lavfi -i "testsrc2=size=32x24:rate=10,trim=end_frame=6" -f lavfi -i "smptebars=size=32x24:rate=10,trim=end_frame=7" \
   -f lavfi -i "sine=duration=4" -filter_complex \
   "[0:v][1:v]concat=n=2:v=1:a=0,settb=1/1000,setpts='(N*N*7+N*50+gte(N,9)*2000)/1000/TB'[v]" -map "[v]" -map 2:a \
   -c:v ffv1 -c:a flac -fps_mode passthrough -enc_time_base:v 1/1000 "$work/vfr13.mkv"
# Starting at 1.5 s, as transport streams do.
ff -f lavfi -i "testsrc2=size=32x24:rate=10,trim=end_frame=12" -c:v ffv1 -output_ts_offset 1.5 "$work/late12.mkv"

# --- Identical output ----------------------------------------------------------------
same "60 frames, a cut at 30, audio, --jobs 2 --segment-frames 10" "$work/cut60.mkv" --filter "$filter" --jobs 2 --segment-frames 10
# The audio is the input's, unchanged.
a_in=$(ff -i "$work/cut60.mkv" -map 0:a -f framemd5 - 2> /dev/null | grep -v '^#software')
a_out=$(ff -i "$last_out" -map 0:a -f framemd5 - 2> /dev/null | grep -v '^#software')
[ -n "$a_in" ] && [ "$a_in" = "$a_out" ] && pass "the input's audio is copied unchanged" || fail "audio copied unchanged"
for f in 1 2 3; do # 13 frames: the last segment of 2 or 3 is shorter
    same "VFR, a cut and a gap on and next to boundaries, segments of $f" "$work/vfr13.mkv" --filter "$filter" --segment-frames $f \
        -- "${vfr_opts[@]}"
done
same "mode=keyframes, segments of 3" "$work/vfr13.mkv" --filter "$filter:mode=keyframes" --segment-frames 3 -- "${vfr_opts[@]}"
same "an input starting at 1.5 s, segments of 5" "$work/late12.mkv" --filter "$filter" --segment-frames 5


# --- Real hosts: an sshd of our own on a loopback port, with a throw-away key -----------
sshd=/usr/sbin/sshd
if [ -x "$sshd" ] && command -v ssh > /dev/null && command -v rsync > /dev/null; then
    k=$work/ssh
    mkdir -p "$k"
    ssh-keygen -q -t ed25519 -N '' -f "$k/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$k/user_key"
    cp "$k/user_key.pub" "$k/authorized_keys"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2> /dev/null ||
           echo $((20000 + $$ % 20000)))
    printf '%s\n' "Port $port" "ListenAddress 127.0.0.1" "HostKey $k/host_key" "AuthorizedKeysFile $k/authorized_keys" \
        "PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" "StrictModes no" \
        "PermitRootLogin prohibit-password" "AcceptEnv DSFN_MODEL_DIR" "PidFile $k/sshd.pid" > "$k/sshd_config"
    host() { printf '%s\n' "Host $1" "HostName 127.0.0.1" "Port $port" "User $(id -un)" "IdentityFile $k/user_key" \
        "IdentitiesOnly yes" "StrictHostKeyChecking no" "UserKnownHostsFile /dev/null" "LogLevel ERROR" "BatchMode yes" "$2"; }
    { host dsfn-test-host ""; host dsfn-test-nomodel "SetEnv DSFN_MODEL_DIR=/nonexistent"; } > "$k/ssh_config"
    [ "$(id -u)" = 0 ] && mkdir -p /run/sshd
    "$sshd" -D -f "$k/sshd_config" -E "$k/sshd.log" &
    sshd_pid=$!
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        ssh -F "$k/ssh_config" dsfn-test-host true 2> /dev/null && break
        sleep 0.5
    done
    export PARALLEL_SSH="ssh -F $k/ssh_config"
    same "over ssh (one job there, one here)" "$work/cut60.mkv" --filter "$filter" --sshlogin "1/dsfn-test-host,1/:" --segment-frames 10
    got=$(cat "$work"/wd-*/joblog 2> /dev/null | grep -c "[[:space:]]dsfn-test-host[[:space:]]")
    [ "${got:-0}" -gt 0 ] && pass "over ssh: $got segments ran on the ssh host" || fail "over ssh: no segment ran on the ssh host"
    # A host that lacks the model: stopped before any segment, the host named.
    cp "$work/w4.dsfn" "$work/named.dsfn"
    out=$(DSFN_MODEL_DIR=$work timeout $limit "$par" --workdir "$work/wd-nomodel" --filter dsfn=model=named \
        --sshlogin "1/dsfn-test-nomodel,1/:" --segment-frames 10 "$work/cut60.mkv" "$work/nomodel.mkv" -- -c:v ffv1 2>&1)
    rc=$?
    [ $rc != 0 ] && echo "$out" | grep -q "dsfn-test-nomodel" && echo "$out" | grep -q "No model named 'named'" &&
        [ ! -e "$work/nomodel.mkv" ] && ! ls "$work"/wd-nomodel/seg-*.mkv > /dev/null 2>&1 &&
        pass "a host without the model: stopped before any segment, naming the host" ||
        fail "a host without the model (rc $rc)" "$out"
    unset PARALLEL_SSH
else
    echo "SKIP: over ssh (needs openssh-server, openssh-client and rsync)"
fi

# --- The Slurm sample: its steps, with a stand-in for sbatch that runs each task -------
cat > "$work/sbatch" << 'EOF'
#!/bin/sh
# Runs what sbatch would queue: each array task (last first), or the one job.
array= wrap=
for a in "$@"; do
    case $a in --array=*) array=${a#--array=} ;; --wrap=*) wrap=${a#--wrap=} ;; esac
done
if [ -n "$array" ]; then
    i=${array#*-}
    while [ "$i" -ge "${array%-*}" ]; do SLURM_ARRAY_TASK_ID=$i sh -c "$wrap" || exit 1; i=$((i - 1)); done
else
    sh -c "$wrap" || exit 1
fi
echo 4242
EOF
chmod +x "$work/sbatch"
want=$(single "$work/vfr13.mkv" "$work/ref-slurm.mkv" "" "${vfr_opts[@]}")
out=$(SBATCH=$work/sbatch DSFN_PARALLEL=$par DSFN_FILTER=$filter timeout $limit "$top/samples/slurm-dsfn.sh" "$work/vfr13.mkv" "$work/slurm.mkv" \
    "$work/wd-slurm" 4 -- -c:v ffv1 "${vfr_opts[@]}" 2>&1)
[ "$(md5_of "$work/slurm.mkv")" = "$want" ] && pass "samples/slurm-dsfn.sh: plan, 4 tasks (last first), join: identical" ||
    fail "samples/slurm-dsfn.sh: identical to one run" "$out"

# --- Nothing lost: a failed segment, then a rerun that does only what is missing ------
# An ffmpeg that fails on segment 2 (the one that seeks to 0.7 s) while $work/flaky exists.
cat > "$work/flaky-ffmpeg" << EOF
#!/bin/sh
case "\$*" in *"-ss 0.700000"*) [ -e "$work/flaky" ] && { echo "flaky: failing this segment" >&2; exit 1; } ;; esac
exec "$ffmpeg" "\$@"
EOF
chmod +x "$work/flaky-ffmpeg"
ln -sf "$ffprobe" "$work/ffprobe"
touch "$work/flaky"
out=$(timeout $limit "$par" --ffmpeg "$work/flaky-ffmpeg" --workdir "$work/wd-flaky" --filter "$filter" --segment-frames 10 \
    "$work/cut60.mkv" "$work/flaky.mkv" -- -c:v ffv1 2>&1)
rc=$?
kept=$(ls "$work"/wd-flaky/seg-*.mkv 2> /dev/null | wc -l)
[ $rc != 0 ] && echo "$out" | grep -q "segment 2 failed: $work/wd-flaky/seg-000002.log" && [ ! -e "$work/flaky.mkv" ] &&
    [ "$kept" = 5 ] && grep -q "flaky: failing" "$work/wd-flaky/seg-000002.log" &&
    pass "a failed segment: exit $rc, the segment and its log named, no OUTPUT, the other 5 kept" ||
    fail "a failed segment (rc $rc, $kept kept)" "$out"
rm -f "$work/flaky"
out=$(timeout $limit "$par" --ffmpeg "$work/flaky-ffmpeg" --workdir "$work/wd-flaky" --filter "$filter" --segment-frames 10 \
    "$work/cut60.mkv" "$work/flaky.mkv" -- -c:v ffv1 2>&1)
rc=$?
want=$(single "$work/cut60.mkv" "$work/ref-flaky.mkv" "")
[ $rc = 0 ] && echo "$out" | grep -q "5 of 6 segments are done already; running the other 1" &&
    [ "$(md5_of "$work/flaky.mkv")" = "$want" ] &&
    pass "the rerun redoes only the missing segment, and the output is identical" || fail "rerun (rc $rc)" "$out"
# Another job in the same work folder is refused.
out=$("$par" --workdir "$work/wd-flaky" --filter "$filter" --segment-frames 7 "$work/cut60.mkv" "$work/other.mkv" 2>&1)
[ $? != 0 ] && echo "$out" | grep -q "holds segments of another job" && pass "another job in the same work folder: refused" ||
    fail "another job in the same work folder" "$out"

# --- --gpus: one job per GPU, each on its own device; the same output ---------------------
# Stand-ins for a machine with two GPUs: nvidia-smi lists GPUs 0 and 1, and an ffmpeg
# that records the device each segment asks for and runs it on the CPU instead.
mkdir -p "$work/gpus"
printf '#!/bin/sh\nprintf "0\\n1\\n"\n' > "$work/gpus/nvidia-smi"
cat > "$work/gpus/ffmpeg" << STANDIN
#!/bin/bash
args=()
for a in "\$@"; do
    case \$a in *device=cuda:*)
        echo "\${a#*device=cuda:}" | cut -d, -f1 | cut -d: -f1 >> "$work/gpus/devices"
        case \$a in *deterministic=1*) ;; *) echo "not deterministic: \$a" >> "$work/gpus/devices" ;; esac
        a=\$(printf '%s' "\$a" | sed 's/device=cuda:[0-9][0-9]*/device=cpu/') ;;
    esac
    args+=("\$a")
done
exec "$ffmpeg" "\${args[@]}"
STANDIN
chmod +x "$work/gpus/nvidia-smi" "$work/gpus/ffmpeg"
ln -s "$ffprobe" "$work/gpus/ffprobe"
PATH="$work/gpus:$PATH" same "--gpus all (2 stand-in GPUs)" "$work/cut60.mkv" --filter "$filter" --gpus all --segment-frames 10 \
    --ffmpeg "$work/gpus/ffmpeg"
used=$(sort "$work/gpus/devices" 2> /dev/null | uniq -c | awk '{ printf "%s%s:%s", sep, $2, $1; sep = " " }')
case $used in
    "0:"*" 1:"*) [ "$(wc -l < "$work/gpus/devices")" = 6 ] &&
                     pass "--gpus all: 6 segments over devices 0 and 1 ($used), each deterministic=1" ||
                     fail "--gpus all: 6 segments" "$used" ;;
    *) fail "--gpus all: both devices used" "$used" ;;
esac
: > "$work/gpus/devices"
same "--gpus 1" "$work/cut60.mkv" --filter "$filter" --gpus 1 --segment-frames 20 --ffmpeg "$work/gpus/ffmpeg"
[ "$(sort -u "$work/gpus/devices")" = 1 ] && pass "--gpus 1: every segment on cuda:1" ||
    fail "--gpus 1: every segment on cuda:1" "$(cat "$work/gpus/devices")"

# --- Clear errors ------------------------------------------------------------------------
ff -f lavfi -i "sine=duration=1" -c:a flac "$work/audio-only.mkv"
expect() { # name, message, dsfn-parallel arguments...
    local name=$1 msg=$2 out rc
    shift 2
    out=$(timeout $limit "$par" "$@" 2>&1)
    rc=$?
    [ $rc != 0 ] && echo "$out" | grep -qF -e "$msg" && pass "$name: \"$msg\"" || fail "$name (rc $rc)" "$out"
}
expect "no video stream" "has no video stream" --workdir "$work/wd-e1" "$work/audio-only.mkv" "$work/e1.mkv"
expect "--segment-frames 0" "--segment-frames '0': a whole number of frames, at least 1" --segment-frames 0 "$work/cut60.mkv" "$work/e.mkv"
expect "--segment-frames ten" "--segment-frames 'ten'" --segment-frames ten "$work/cut60.mkv" "$work/e.mkv"
expect "unwritable work folder" "cannot write into the work folder '/proc/dsfn'" --workdir /proc/dsfn "$work/cut60.mkv" "$work/e.mkv"
expect "no ffmpeg there" "no ffmpeg ('/nonexistent/ffmpeg')" --ffmpeg /nonexistent/ffmpeg "$work/cut60.mkv" "$work/e.mkv"
printf '#!/bin/sh\necho " ... scale V->V Scale"\n' > "$work/plain-ffmpeg" && chmod +x "$work/plain-ffmpeg"
expect "an ffmpeg without the filter" "has no dsfn filter" --ffmpeg "$work/plain-ffmpeg" "$work/cut60.mkv" "$work/e.mkv"
expect "a filter that is not dsfn" "--filter 'scale=64:48': one dsfn instance" --filter scale=64:48 "$work/cut60.mkv" "$work/e.mkv"
expect "--gpus with --jobs" "--gpus runs one job per GPU: leave out --jobs" --gpus 0 --jobs 2 "$work/cut60.mkv" "$work/e.mkv"
expect "--gpus with a device" "leave device= out of --filter" --gpus 0,1 --filter dsfn=device=cuda "$work/cut60.mkv" "$work/e.mkv"
expect "--gpus with --sshlogin" "leave out --sshlogin" --gpus 0 --sshlogin host "$work/cut60.mkv" "$work/e.mkv"
expect "--gpus 0,x" "--gpus '0,x': GPU numbers separated by commas" --gpus 0,x "$work/cut60.mkv" "$work/e.mkv"
expect "--gpus 1,1" "a GPU named twice" --gpus 1,1 "$work/cut60.mkv" "$work/e.mkv"
if ! PATH=/usr/bin:/bin command -v nvidia-smi > /dev/null; then
    PATH=/usr/bin:/bin expect "--gpus all without nvidia-smi" "--gpus all: no nvidia-smi" --gpus all "$work/cut60.mkv" "$work/e.mkv"
fi
expect "a missing model: the segment's log says so" "No model named" --workdir "$work/wd-e2" --filter dsfn=model=none-such \
    --segment-frames 30 "$work/cut60.mkv" "$work/e2.mkv"

finish
