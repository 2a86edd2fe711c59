#!/bin/bash
# dsfn-parallel: one long video through the dsfn filter on many cores and many
# machines, with GNU parallel; the joined output is identical to a single run.
#
#   dsfn-parallel [--filter "dsfn=OPTIONS"] [--jobs N | --gpus LIST|all] [--segment-frames F]
#                 [--sshlogin HOSTS] [--shared] [--workdir DIR] [--ffmpeg PATH]
#                 INPUT OUTPUT [-- OUTPUT OPTIONS]
#   dsfn-parallel --plan  --workdir DIR [same options] INPUT OUTPUT [-- OUTPUT OPTIONS]
#   dsfn-parallel --run-segment I --workdir DIR
#   dsfn-parallel --join --workdir DIR
#
# Output k of dsfn depends only on a few input frames around k (the window reads two
# frames either side, and a scene cut is decided from the last three frames), so the
# video is cut into segments of F frames, each run with CONTEXT_BEFORE frames before
# it and CONTEXT_AFTER after, and only the outputs of its own frames are kept, by
# their exact timestamps. Segments are encoded with the OUTPUT OPTIONS and joined
# with the concat demuxer without re-encoding; the input's audio and subtitles are
# copied in unchanged. --plan, --run-segment and --join are the three steps on
# their own, for batch systems (samples/slurm-dsfn.sh). --gpus 0,1,... (or all,
# as nvidia-smi lists them) runs one job per GPU of this machine, each segment's
# filter with device=cuda:N of the GPU its job slot holds and deterministic=1
# (unless --filter sets it), so that every process computes the same pictures: the
# output is that of one run with -vf dsfn=device=cuda:deterministic=1.
set -euo pipefail

CONTEXT_BEFORE=3
CONTEXT_AFTER=2

me=$(basename "$0")
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "$me: $*" >&2; exit 1; }
usage() {
    sed -n '5,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

filter=dsfn jobs= gpus= segment_frames=250 sshlogin= shared=0 workdir= ffmpeg=
step=all segment_index=
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --filter) filter=${2:?}; shift 2 ;;
        --jobs) jobs=${2:?}; shift 2 ;;
        --gpus) gpus=${2:?}; shift 2 ;;
        --segment-frames) segment_frames=${2:?}; shift 2 ;;
        --sshlogin) sshlogin=${2:?}; shift 2 ;;
        --shared) shared=1; shift ;;
        --workdir) workdir=${2:?}; shift 2 ;;
        --ffmpeg) ffmpeg=${2:?}; shift 2 ;;
        --plan) step=plan; shift ;;
        --run-segment) step=segment segment_index=${2:?}; shift 2 ;;
        --join) step=join; shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) echo "$me: unknown option '$1'" >&2; usage ;;
        *) args+=("$1"); shift ;;
    esac
done
output_options=("$@")

# --- The job's settings, kept in the work folder -------------------------------------
# job.sh holds every setting as shell assignments (written with printf %q), so the
# later steps, a rerun and a batch system's tasks all read the same job.
write_job() {
    {
        printf 'input=%q\noutput=%q\nfilter=%q\nffmpeg=%q\nffprobe=%q\nsegment_frames=%q\n' \
            "$input" "$output" "$filter" "$ffmpeg" "$ffprobe" "$segment_frames"
        printf 'output_options=('; printf '%q ' "${output_options[@]}"; printf ')\n'
        printf 'fingerprint=%q\ntb_num=%q\ntb_den=%q\nmode_factor=%q\nstart_time=%q\n' \
            "$fingerprint" "$tb_num" "$tb_den" "$mode_factor" "$start_time"
    } > "$workdir/job.sh.new"
    mv -f "$workdir/job.sh.new" "$workdir/job.sh"
}
read_job() {
    [ -f "$workdir/job.sh" ] && [ -f "$workdir/plan.tsv" ] ||
        die "'$workdir' holds no planned job (run dsfn-parallel --plan first)"
    # shellcheck disable=SC1091
    . "$workdir/job.sh"
}

[ -n "$workdir" ] || { [ $step = all ] && [ ${#args[@]} = 2 ] && workdir="${args[1]}.dsfn-parallel"; } ||
    die "--workdir is needed"
if [ $step = segment ] || [ $step = join ]; then
    [ ${#args[@]} = 0 ] || die "--run-segment and --join take no INPUT or OUTPUT (they are in '$workdir')"
    read_job
else
    [ ${#args[@]} = 2 ] || usage
    input=${args[0]} output=${args[1]}
    [ -f "$input" ] && [ -r "$input" ] || die "cannot read INPUT '$input'"
    case $segment_frames in ''|*[!0-9]*|0) die "--segment-frames '$segment_frames': a whole number of frames, at least 1" ;; esac
    case $filter in dsfn|dsfn=*) ;; *) die "--filter '$filter': one dsfn instance, as dsfn or dsfn=OPTIONS" ;; esac
    if [ -n "$gpus" ]; then
        [ -z "$jobs" ] || die "--gpus runs one job per GPU: leave out --jobs"
        [ -z "$sshlogin" ] || die "--gpus is for the GPUs of this machine: leave out --sshlogin"
        case $filter in *device=*) die "--gpus gives each job its device: leave device= out of --filter" ;; esac
        if [ "$gpus" = all ]; then
            command -v nvidia-smi > /dev/null || die "--gpus all: no nvidia-smi to list the GPUs (give --gpus 0,1,...)"
            gpus=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | tr -d ' ' | paste -sd, -)
            [ -n "$gpus" ] || die "--gpus all: nvidia-smi lists no GPU"
        fi
        case ,$gpus, in *[!0-9,]*|*,,*) die "--gpus '$gpus': GPU numbers separated by commas, or all" ;; esac
        [ "$(tr ',' '\n' <<< "$gpus" | sort -u | wc -l)" = "$(tr ',' '\n' <<< "$gpus" | wc -l)" ] ||
            die "--gpus '$gpus': a GPU named twice"
        jobs=$(tr ',' '\n' <<< "$gpus" | wc -l)
    fi
    [ -n "$jobs" ] || jobs=$(nproc 2>/dev/null || echo 2)
    case $jobs in ''|*[!0-9]*|0) die "--jobs '$jobs': a whole number, at least 1" ;; esac
    # Bit-identical output needs the same thread count in every run: one per job
    # unless the filter names its own.
    case $filter in *threads=*) ;; dsfn) filter=dsfn=threads=1 ;; *) filter="$filter:threads=1" ;; esac
    if [ -z "$ffmpeg" ]; then
        if [ -x "$here/ffmpeg" ]; then ffmpeg=$here/ffmpeg; else ffmpeg=$(command -v ffmpeg || true); fi
    fi
    [ -n "$ffmpeg" ] && [ -x "$ffmpeg" ] || die "no ffmpeg ('$ffmpeg'): give --ffmpeg PATH"
    ffprobe=$(dirname "$ffmpeg")/ffprobe
    [ -x "$ffprobe" ] || ffprobe=$(command -v ffprobe || true)
    [ -n "$ffprobe" ] || die "no ffprobe beside '$ffmpeg' or in PATH"
    "$ffmpeg" -hide_banner -filters 2>/dev/null | grep ' dsfn ' > /dev/null || die "'$ffmpeg' has no dsfn filter"
    out_dir=$(dirname "$output")
    [ -d "$out_dir" ] && [ -w "$out_dir" ] || die "cannot write OUTPUT into '$out_dir'"
    input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input")
    output=$(cd "$out_dir" && pwd)/$(basename "$output")
    [ "$input" != "$output" ] || die "OUTPUT is INPUT"
    mkdir -p "$workdir" 2>/dev/null && [ -w "$workdir" ] && touch "$workdir/.writable" 2>/dev/null ||
        die "cannot write into the work folder '$workdir'"
    rm -f "$workdir/.writable"
fi
workdir=$(cd "$workdir" && pwd)
ext=${output##*.}
[ "$ext" != "$output" ] || die "OUTPUT '$output' needs an extension (it names the container)"

seg_name() { printf 'seg-%06d' "$1"; }
segment_file() { echo "$workdir/$(seg_name "$1").$ext"; }
segment_log() { echo "$workdir/$(seg_name "$1").log"; }

# --- Plan: frame timestamps, segments and their context --------------------------------
plan() {
    local v start_us probe=$workdir/.probe.$$
    # One ffprobe for all of it (each start loads LibTorch): the video's time base,
    # the input's start time, and the frames' timestamps as ffmpeg gives them to the filter.
    "$ffprobe" -v error -select_streams V:0 -show_entries stream=time_base:format=start_time:frame=best_effort_timestamp \
        -of default=nw=1 "$input" > "$probe" || { rm -f "$probe"; die "cannot read the frames of '$input'"; }
    v=$(sed -n 's/^time_base=//p' "$probe" | head -n 1)
    start_time=$(sed -n 's/^start_time=//p' "$probe" | head -n 1)
    [ -n "$v" ] || { rm -f "$probe"; die "INPUT '$input' has no video stream"; }
    tb_num=${v%/*} tb_den=${v#*/}
    case $start_time in N/A|'') start_time=0 ;; esac
    start_us=$(echo "$start_time" | awk '{ printf "%.0f", $1 * 1000000 }')
    # What the job is: a rerun in the same folder must be the same job.
    fingerprint=$( { ls -l --time-style=full-iso "$input" | cut -d' ' -f5-; echo "$filter"; printf '%s\n' "${output_options[@]}";
                     echo "$segment_frames $ext"; "$ffmpeg" -version | sed -n 1p; } | md5sum | cut -d' ' -f1)
    if [ -f "$workdir/job.sh" ]; then
        local old
        old=$(sed -n 's/^fingerprint=//p' "$workdir/job.sh")
        [ "$old" = "$fingerprint" ] ||
            { rm -f "$probe"; die "'$workdir' holds segments of another job (other input, filter, options or ffmpeg): use another --workdir or empty it"; }
    fi
    sed -n 's/^best_effort_timestamp=//p' "$probe" > "$workdir/frames.txt"
    rm -f "$probe"
    mode_factor=2
    case $filter in *mode=keyframes*|*mode=1*) mode_factor=1 ;; esac
    awk -v F="$segment_frames" -v B=$CONTEXT_BEFORE -v A=$CONTEXT_AFTER -v m=$mode_factor \
        -v num="$tb_num" -v den="$tb_den" -v start_us="$start_us" '
        $1 == "N/A" || $1 == "" { printf "frame %d has no timestamp\n", NR - 1 > "/dev/stderr"; bad = 1; exit 1 }
        { p[n++] = $1 }
        n > 1 && p[n - 1] <= p[n - 2] { printf "timestamps go backwards at frame %d (%s after %s)\n", n - 1, p[n - 1], p[n - 2] > "/dev/stderr"; bad = 1; exit 1 }
        END {
            if (bad) exit 1
            if (n == 0) { print "no video frames" > "/dev/stderr"; exit 1 }
            # ffmpeg shifts the input by its start time: av_rescale_q(-start, 1/1000000, tb), to nearest.
            t = start_us * den; q = num * 1000000
            off = -(t >= 0 ? int((t + q / 2) / q) : -int((-t + q / 2) / q))
            if (off == 0) off = 0 # not "-0"
            for (s = 0; s * F < n; s++) {
                a = s * F; b = a + F; if (b > n) b = n
                ca = a - B; if (ca < 0) ca = 0
                cb = b + A
                seek = (p[ca] + off) * num / den - 1; if (seek < 0) seek = 0
                printf "%d\t%.6f\t%.0f\t%.0f\t%s\t%.0f\t%s\t%d\n", s, seek, off, p[ca] + off,
                       cb < n ? sprintf("%.0f", p[cb] + off) : "-", m * (p[a] + off),
                       b < n ? sprintf("%.0f", m * (p[b] + off)) : "-", m * (b - a)
            }
        }' "$workdir/frames.txt" > "$workdir/plan.tsv.new" || die "cannot split '$input': see above"
    mv -f "$workdir/plan.tsv.new" "$workdir/plan.tsv"
    # ffmpeg encodes at 1/(2 x the nominal frame rate) unless told otherwise, and drops
    # frames whose timestamps meet there: how many depends on the frames before, so
    # at segment starts it differs from one run (and frames are lost in both).
    if awk 'NR > 1 { d = $1 - p; if (NR > 2 && d != last) vfr = 1; last = d } { p = $1 } END { exit !vfr }' "$workdir/frames.txt" &&
       ! printf '%s\n' ${output_options[@]+"${output_options[@]}"} | grep -q -e '^-enc_time_base' -e '^-fps_mode' -e '^-vsync'; then
        echo "$me: warning: '$input' has a variable frame rate: add -enc_time_base:v filter to the OUTPUT OPTIONS" \
             "to keep every frame's exact timestamp (and the output identical to one run with them)" >&2
    fi
    write_job
    echo "$me: $(wc -l < "$workdir/frames.txt") frames in $(wc -l < "$workdir/plan.tsv") segments of up to $segment_frames; work folder $workdir"
}

# The dsfn-segment arguments of plan line I (without FFMPEG INPUT OUTPUT).
segment_args() { awk -F'\t' -v i="$1" '$1 == i { print $2, $3, $4, $5, $6, $7; found = 1 } END { exit !found }' "$workdir/plan.tsv"; }

run_segment() {
    local i=$1 a
    a=$(segment_args "$i") || die "no segment $i in $workdir/plan.tsv"
    # shellcheck disable=SC2086
    "$here/dsfn-segment" "$ffmpeg" "$input" "$(segment_file "$i")" $a "$filter" ${output_options[@]+"${output_options[@]}"} \
        > "$(segment_log "$i")" 2>&1 || { head -n 3 "$(segment_log "$i")" >&2; die "segment $i failed: $(segment_log "$i")"; }
}

# --- Join: concat without re-encoding, then the input's audio and subtitles --------------
join_segments() {
    local list=$workdir/concat.txt missing=() i expected got
    while IFS=$'\t' read -r i _ _ _ _ _ _ expected; do
        if [ ! -f "$(segment_file "$i")" ]; then missing+=("$i"); continue; fi
        got=$("$ffprobe" -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$(segment_file "$i")")
        if [ "$got" != "$expected" ]; then
            mv -f "$(segment_file "$i")" "$(segment_file "$i").bad"
            die "segment $i has $got frames, not $expected (kept as $(segment_file "$i").bad; log $(segment_log "$i")):" \
                "the encoder dropped frames whose timestamps met in its time base (with variable frame rate input," \
                "add -enc_time_base:v filter to the OUTPUT OPTIONS), or the input cannot seek to frames exactly"
        fi
    done < "$workdir/plan.tsv"
    [ ${#missing[@]} = 0 ] || die "segments not done: ${missing[*]} (logs: $workdir/seg-NNNNNN.log)"
    # Each file's in point is at or before its first frame and the durations are the
    # differences of the in points, so the concat demuxer shifts no timestamp.
    # ffconcat quoting: inside single quotes, a quote is written quote, backslash, quote, quote.
    DIR=${workdir//\'/\'\\\'\'} awk -F'\t' -v ext="$ext" -v num="$tb_num" -v den="$tb_den" -v m="$mode_factor" '
        { x[NR - 1] = NR == 1 ? 0 : int($6 / m * num / den * 1000000) - 1000; n = NR }
        END {
            print "ffconcat version 1.0"
            for (i = 0; i < n; i++) {
                printf "file \047%s/seg-%06d.%s\047\ninpoint %.6f\n", ENVIRON["DIR"], i, ext, x[i] / 1000000
                if (i + 1 < n) printf "duration %.6f\n", (x[i + 1] - x[i]) / 1000000
            }
        }' "$workdir/plan.tsv" > "$list"
    local shift_by subs=() partial
    case $start_time in -*) shift_by=${start_time#-} ;; *) shift_by=-$start_time ;; esac
    # Matroska cannot hold mov_text (phones' subtitles): those become SubRip.
    if [ "$ext" = mkv ] && "$ffprobe" -v error -select_streams s -show_entries stream=codec_name -of csv=p=0 "$input" | grep -q mov_text; then
        subs=(-c:s srt)
    fi
    partial="$(dirname "$output")/.partial-$(basename "$output")"
    # -copyts keeps the segments' timestamps, which are the single run's; the input's
    # other streams get the single run's shift by its start time.
    "$ffmpeg" -nostdin -hide_banner -loglevel error -y -copyts -f concat -safe 0 -i "$list" \
        -itsoffset "$shift_by" -i "$input" -map 0:v -map 1:a? -map 1:s? -map 1:t? -c copy ${subs[@]+"${subs[@]}"} \
        -map_metadata 1 -map_chapters 1 "$partial" || die "joining the segments failed"
    mv -f "$partial" "$output"
}

case $step in
    plan) plan; exit 0 ;;
    segment) run_segment "$segment_index"; exit 0 ;;
    join) join_segments; echo "$me: wrote $output"; exit 0 ;;
esac

# --- The whole job: plan, the segments through GNU parallel, join ----------------------
command -v parallel > /dev/null || die "GNU parallel is not installed (Debian: apt-get install parallel)"
t0=$(date +%s.%N)
plan
t_plan=$(date +%s.%N)
todo=$workdir/todo.tsv
: > "$todo"
while IFS=$'\t' read -r i rest; do
    [ -f "$(segment_file "$i")" ] || printf '%s\t%s\n' "$(seg_name "$i")" "$rest" >> "$todo"
done < "$workdir/plan.tsv"
total=$(wc -l < "$workdir/plan.tsv") left=$(wc -l < "$todo")
[ "$left" = "$total" ] || echo "$me: $((total - left)) of $total segments are done already; running the other $left"

q() { printf '%q' "$1"; }
opts=$(for o in ${output_options[@]+"${output_options[@]}"}; do printf ' %q' "$o"; done)
par=(parallel --colsep '\t' --jobs "$jobs" --joblog "$workdir/joblog" --halt never)
if [ -z "$sshlogin" ] || [ $shared = 1 ]; then
    # Local jobs, or hosts that see the same files at the same paths.
    [ -z "$sshlogin" ] || par+=(--sshlogin "$sshlogin")
    device= pick=
    if [ -n "$gpus" ]; then
        # Job slot k ({%}, 1 to the number of GPUs) holds the k-th GPU: one job per GPU at a time.
        pick="set -- ${gpus//,/ }; shift \$(({%} - 1)); "
        device=':device=cuda:$1'
        # cuDNN times its algorithms per process and may pick others in each.
        case $filter in *deterministic=*) ;; *) device="$device:deterministic=1" ;; esac
    fi
    cmd="$pick$(q "$here/dsfn-segment") $(q "$ffmpeg") $(q "$input") $(q "$workdir")/{1}.$ext"
    cmd="$cmd {2} {3} {4} {5} {6} {7} $(q "$filter")$device$opts > $(q "$workdir")/{1}.log 2>&1"
else
    # Hosts with the same build (and model) but their own disks: INPUT and
    # dsfn-segment go to each host once (into ~/JOBDIR there); each segment and its
    # log come back. Jobs on this machine (":") run in WORKDIR/JOBDIR.
    jobdir=dsfn-parallel-$fingerprint
    in_name=input.${input##*.}
    mkdir -p "$workdir/$jobdir"
    for d in "$workdir" "$workdir/$jobdir"; do
        ln -sf "$input" "$d/$in_name"
        cp -f "$here/dsfn-segment" "$d/dsfn-segment"
    done
    par+=(--sshlogin "$sshlogin" --workdir "$jobdir" --basefile "./$in_name" --basefile ./dsfn-segment
          --return "{1}.$ext" --return "{1}.log" --cleanup)
    cmd="sh ./dsfn-segment $(q "$ffmpeg") ./$in_name ./{1}.$ext"
    cmd="$cmd {2} {3} {4} {5} {6} {7} $(q "$filter")$opts > ./{1}.log 2>&1"
fi
# Progress: GNU parallel's bar on a terminal, else a line per finished segment.
if [ -t 2 ]; then
    par+=(--bar)
else
    cmd="$cmd && echo \"$me: {1} done\""
fi
if [ "$left" -gt 0 ] && [ -n "$sshlogin" ]; then
    # Every host must run the filter with its model before any segment goes there:
    # one frame through the same ffmpeg and filter.
    check="test -x $(q "$ffmpeg") || { echo 'no ffmpeg at $(q "$ffmpeg")'; exit 1; };"
    check="$check $(q "$ffmpeg") -nostdin -hide_banner -loglevel error -f lavfi -i color=size=16x16:duration=0.1"
    check="$check -frames:v 1 -vf $(q "$filter") -f null - 2>&1 | head -n 3"
    if ! out=$(parallel --nonall --tag --sshlogin "$sshlogin" "$check" 2>&1) || [ -n "$out" ]; then
        echo "$out" | sed 's/^/    /' >&2
        die "a host cannot run '$filter' with '$ffmpeg' (above, by host): each needs the same ffmpeg, filter and model"
    fi
fi
if [ "$left" -gt 0 ]; then
    (cd "$workdir" && "${par[@]}" "$cmd" :::: "$todo") || true
fi
# What jobs on this machine made in the job folder.
if [ -n "${jobdir:-}" ]; then
    for f in "$workdir/$jobdir"/seg-*; do
        [ -e "$f" ] && mv -f "$f" "$workdir/"
    done
fi
failed=()
while IFS=$'\t' read -r i _; do
    [ -f "$(segment_file "$i")" ] || failed+=("$i")
done < "$workdir/plan.tsv"
if [ ${#failed[@]} -gt 0 ]; then
    for i in "${failed[@]}"; do
        echo "$me: segment $i failed: $(segment_log "$i")" >&2
        head -n 3 "$(segment_log "$i")" 2>/dev/null | sed 's/^/    /' >&2
    done
    die "${#failed[@]} of $total segments failed; the others are kept in $workdir: run the same command again to redo only those"
fi
t_segments=$(date +%s.%N)
join_segments
t1=$(date +%s.%N)
frames=$(wc -l < "$workdir/frames.txt")
awk -v f="$frames" -v s="$total" -v t0="$t0" -v tp="$t_plan" -v ts="$t_segments" -v t1="$t1" -v out="$output" -v m="$me" 'BEGIN {
    t = t1 - t0
    printf "%s: %d segments, %d frames in, %s; %.1f s (plan %.1f, segments %.1f, join %.1f), %.2f input frames per second\n",
           m, s, f, out, t, tp - t0, ts - tp, t1 - ts, (t > 0 ? f / t : 0) }'
