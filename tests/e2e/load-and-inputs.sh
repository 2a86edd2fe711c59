# Sourced by tests/e2e/run.sh (its helpers and variables): a busy machine, and
# inputs users feed the filter that are easy to get wrong: interlaced, grey, an
# empty model option, commands sent mid-stream.

# --- A busy machine: the automatic thread count gives way, the pictures stay --------
# The pictures do not depend on the thread count, so the automatic count may
# follow the load; with another process spinning on a core, it comes down.
busy_src="testsrc2=size=96x64:rate=10,trim=end_frame=24,format=gbrp"
one=$(crc -f lavfi -i "$busy_src" -vf "dsfn=model=$model$dev:threads=1" -fps_mode passthrough)
two=$(crc -f lavfi -i "$busy_src" -vf "dsfn=model=$model$dev:threads=2" -fps_mode passthrough)
[ -n "$one" ] && [ "$one" = "$two" ] && pass "threads=1 and threads=2 make the same frames" ||
    fail "threads=1 and threads=2 make the same frames" "$(cat "$work/log")"
# deterministic=1 fixes cuDNN's choices on a GPU; the pictures are the same.
fixed=$(crc -f lavfi -i "$busy_src" -vf "dsfn=model=$model$dev:threads=1:deterministic=1" -fps_mode passthrough)
[ -n "$fixed" ] && [ "$fixed" = "$one" ] && pass "deterministic=1 makes the same frames" ||
    fail "deterministic=1 makes the same frames" "$(cat "$work/log")"
# threads is libavfilter's generic option (the filter has none of its own), and
# the graph's count (-filter_threads) is the default a filter's own count stays within.
threads_used() { ff -v verbose "$@" -f null - 2>&1 | sed -n 's/.*device [a-z0-9:]*, \([0-9]*\) threads,.*/\1/p' | head -n 1; }
t_own=$(threads_used -f lavfi -i "$busy_src,trim=end_frame=2" -vf "dsfn=model=$model$dev:threads=1")
t_graph=$(threads_used -filter_threads 1 -f lavfi -i "$busy_src,trim=end_frame=2" -vf "dsfn=model=$model$dev")
t_many=$(ff -v verbose -f lavfi -i "$busy_src,trim=end_frame=2" -vf "dsfn=model=$model$dev:threads=4096" -f null - 2>&1)
[ "$t_own" = 1 ] && [ "$t_graph" = 1 ] && echo "$t_many" | grep -q "threads=4096 is more than the $(nproc) cores here" &&
    pass "threads=1 and -filter_threads 1 run 1 thread; threads=4096 is lowered, with a warning" ||
    fail "threads (generic option): threads=1 gave '$t_own', -filter_threads 1 gave '$t_graph'" "$t_many"
cores=$(nproc)
if [ "$device" = cpu ] && [ "$cores" -ge 2 ]; then
    sh -c 'while :; do :; done' &
    spinner=$!
    auto=$(ff -v verbose -f lavfi -i "$busy_src" -vf "dsfn=model=$model$dev" -fps_mode passthrough \
        -f framecrc - 2> "$work/log")
    fixed=$(ff -v verbose -f lavfi -i "$busy_src" -vf "dsfn=model=$model$dev:threads=$cores" -f null - 2>&1)
    kill $spinner
    wait $spinner 2> /dev/null
    want="using $((cores - 1)) of $cores threads: other work keeps [0-9.]* cores busy"
    grep -q "$want" "$work/log" && [ "$auto" = "$one" ] &&
        pass "beside a busy process: $((cores - 1)) of $cores threads, the same frames" ||
        fail "beside a busy process: $((cores - 1)) of $cores threads, the same frames" "$(grep -i 'dsfn' "$work/log")"
    ! echo "$fixed" | grep -q 'threads: other work' && echo "$fixed" | grep -q '24 frames in, 48 frames out' &&
        pass "beside a busy process, threads=$cores stays $cores" ||
        fail "beside a busy process, threads=$cores stays $cores" "$(echo "$fixed" | grep -i dsfn)"
fi

# --- Interlaced input: progressive output, and one warning naming the remedy --------------
out=$(ff -f lavfi -i "$src,trim=end_frame=3" -vf "setfield=tff,$dsfn,showinfo" -f null - 2>&1)
flags=$(echo "$out" | sed -n 's/.*Parsed_showinfo.* i:\([A-Z?]\) .*/\1/p' | sort -u | tr -d '\n')
warnings=$(echo "$out" | grep -c 'The input is interlaced.*bwdif')
[ "$flags" = P ] && [ "$warnings" = 1 ] && pass "interlaced input: progressive frames, one warning" ||
    fail "interlaced input: progressive frames (got '$flags'), one warning (got $warnings)" "$out"
# What players see: Matroska stores the field order (mp4 does not). The same
# encode without dsfn shows that the probe sees interlacing.
if ff -muxers 2> /dev/null | grep -q ' matroska ' && ff -encoders 2> /dev/null | grep -q ' mpeg4 '; then
    order() { # -vf graph -> field_order of the encoded stream
        ff -y -f lavfi -i "$src,trim=end_frame=3" -vf "$1" -c:v mpeg4 "$work/fields.mkv" 2> "$work/log" &&
            ffp -select_streams v -show_entries stream=field_order -of csv=p=0 "$work/fields.mkv"
    }
    plain=$(order setfield=tff) with=$(order "setfield=tff,$dsfn")
    [ "$plain" = tb ] && [ "$with" = progressive ] &&
        pass "interlaced input: the encoded stream is progressive (without dsfn: $plain)" ||
        fail "interlaced input: the encoded stream is progressive (got '$with'; without dsfn '$plain')" "$(cat "$work/log")"
fi

# --- Grey input stays grey, in every precision ----------------------------------------
# Raw RGB out: count the pixels whose channels differ.
coloured() { # bytes per sample (1 or 2) -> "C of N": pixels with R, G, B not all equal, of all
    od -An -v -tu"$1" -w$((3 * $1)) | awk '$1 != $2 || $1 != $3 { n++ } END { print n + 0, "of", NR }'
}
grey_ok() { case $1 in "0 of 0"|"") return 1 ;; "0 of "*) return 0 ;; *) return 1 ;; esac; }
precisions="fp32 bf16"
[ "$device" = cpu ] || precisions="fp32 bf16 fp16"
grey_src="testsrc2=size=40x30:rate=10,trim=end_frame=4"
for p in $precisions; do
    n=$(ff -f lavfi -i "$grey_src" -vf "format=gray,$dsfn:precision=$p,format=rgb24" -f rawvideo - 2> "$work/log" | coloured 1)
    grey_ok "$n" && pass "grey input, $p: every pixel neutral ($n coloured)" ||
        fail "grey input, $p: every pixel neutral ($n coloured)" "$(cat "$work/log")"
done
n=$(ff -f lavfi -i "$grey_src" -vf "format=gray16le,$dsfn,format=rgb48le" -f rawvideo - 2> "$work/log" | coloured 2)
grey_ok "$n" && pass "16-bit grey input: every pixel neutral ($n coloured)" ||
    fail "16-bit grey input: every pixel neutral ($n coloured)" "$(cat "$work/log")"
# Colour stays colour: the check above is not a filter that greys everything.
n=$(ff -f lavfi -i "$grey_src" -vf "$dsfn,format=rgb24" -f rawvideo - 2> "$work/log" | coloured 1)
[ "${n%% *}" -gt 0 ] 2> /dev/null && pass "colour input keeps its colours ($n coloured)" ||
    fail "colour input keeps its colours ($n coloured)" "$(cat "$work/log")"

# --- Options a script gets wrong ----------------------------------------------------------
expect_vf_error "empty model= (a script's empty variable)" "model= is empty" "dsfn=model=$dev"
# scene and gap change mid-stream through sendcmd; the others refuse with a reason.
between_after_cmd() { # source graph, command, output index, input index -> PSNR as between_vs
    ff -f lavfi -i "$1[out0]" -filter_complex \
        "[0:v]split[x][y];[x]sendcmd=c='0 dsfn $2',dsfn=model=$zero$dev,select='eq(n\,$3)',setpts=N/TB[o];[y]select='eq(n\,$4)',scale=iw*4:ih*4:flags=neighbor,setpts=N/TB[r];[o][r]psnr" \
        -f null - 2>&1 | psnr_of
}
for case in "scene 0|$two_scenes|9 4 5" "gap 0|$jump|5 2 3"; do
    cmd=${case%%|*} rest=${case#*|}
    graph=${rest%|*} idx=${rest##*|}
    set -- $idx
    before=$(between_after_cmd "$graph" "$cmd" $1 $2) after=$(between_after_cmd "$graph" "$cmd" $1 $3)
    [ -n "$before" ] && [ "$before" != inf ] && [ -n "$after" ] && [ "$after" != inf ] &&
        pass "sendcmd '$cmd' at 0 s: frames blended across the cut ($before / $after dB)" ||
        fail "sendcmd '$cmd' at 0 s: frames blended (PSNR vs before '$before', vs after '$after')"
done
out=$(ff -f lavfi -i "$src,trim=end_frame=3" -vf "sendcmd=c='0 dsfn threads 1',$dsfn" -f null - 2>&1)
rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "Option 'threads' cannot change mid-stream (scene and gap can)" &&
    pass "sendcmd threads: refused with a reason, the job goes on" ||
    fail "sendcmd threads: refused with a reason (exit $rc)" "$out"
