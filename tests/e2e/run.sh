#!/bin/sh
# End-to-end tests of the dsfn filter through the built ffmpeg and ffprobe.
#   tests/e2e/run.sh BUILD_DIR
# Prints one line per check and "N passed, N failed" at the end; exits non-zero on failure.
set -u

suite=dsfn-e2e
. "$(dirname "$0")/lib.sh"

ff()  { timeout $limit "$ffmpeg" -nostdin -hide_banner -nostats "$@"; }
# framecrc lines of an ffmpeg run on stdout; its log goes to $work/log.
crc() { ff "$@" -f framecrc - 2> "$work/log"; }
ffp() { timeout $limit "$ffprobe" -hide_banner -v error "$@"; }

model="$work/w4.dsfn"
"$tool" init "$model" --width 4 --seed 1 --fp16 > /dev/null || { echo "cannot create the test model"; exit 1; }
# DSFN_E2E_DEVICE=cuda runs every filter instance on the GPU (scripts/accelerator/accelerator-run.sh).
device=${DSFN_E2E_DEVICE:-cpu}
dev=":device=$device"
dsfn="dsfn=model=$model:threads=2$dev"
src="testsrc2=size=32x24:rate=10"

# Frames of a lavfi graph, read straight by ffprobe: the filter's own timestamps.
frames() { ffp -f lavfi -i "$1" -show_entries frame=pts,duration,width,height -of csv=p=0; }

# --- The filter exists and documents itself -------------------------------------
out=$(ff -filters 2>&1)
echo "$out" | grep -q ' dsfn  *V->V ' && pass "ffmpeg -filters lists dsfn" || fail "ffmpeg -filters lists dsfn" "$out"
# The same options, types and constants on every FFmpeg release the filter builds into.
out=$(ff -h filter=dsfn 2>&1)
got=$(echo "$out" | sed -n '/^dsfn AVOptions:/,$p' | awk '/^  +[a-z_0-9]+ +[^ ]+ +[.A-Z]+ / { printf "%s %s;", $1, $2 }')
want="model <string>;device <string>;mode <int>;full 0;keyframes 1;scene <double>;gap <double>;"
want="${want}max_memory <double>;precision <int>;fp32 0;bf16 1;fp16 2;auto 3;int8 4;tile <int>;overlap <int>;ensemble <int>;"
want="${want}off 1;hflip 2;all 4;edge_mirror <int>;deterministic <boolean>;"
[ "$got" = "$want" ] && pass "ffmpeg -h filter=dsfn lists every option, type and constant" ||
    fail "ffmpeg -h filter=dsfn lists every option, type and constant" "got:  $got
want: $want
$out"

# --- N input frames give 2N output frames, through ffmpeg -------------------------
for n in 0 1 2 3 4 5; do
    out=$(crc -f lavfi -i "$src,trim=end_frame=$n" -vf "$dsfn" -fps_mode passthrough)
    got=$(echo "$out" | grep -c '^0, ')
    [ "$got" = $((2 * n)) ] && pass "$n frames in, $got out" || fail "$n frames in, $((2 * n)) out (got $got)" "$(cat "$work/log")"
done
out=$(crc -f lavfi -i "$src,trim=end_frame=4" -vf "$dsfn:mode=keyframes" -fps_mode passthrough)
got=$(echo "$out" | grep -c '^0, ')
[ "$got" = 4 ] && pass "mode=keyframes: 4 frames in, 4 out" || fail "mode=keyframes: 4 in, 4 out (got $got)" "$(cat "$work/log")"

# --- Timestamps -------------------------------------------------------------------------
# showinfo before and after the filter prints each frame's own pts and duration
# (-copyts keeps the source's timestamps untouched by the ffmpeg tool).
timing() { # graph before dsfn -> lines "in|out,pts,duration"
    ff -copyts -f lavfi -i "$1" -vf "showinfo,$dsfn,showinfo" -f null - 2>&1 |
        sed -n 's/.*Parsed_showinfo_\([02]\) .* pts: *\([0-9-]*\) .* duration: *\([0-9-]*\) .*/\1,\2,\3/p' |
        sed 's/^0,/in,/; s/^2,/out,/'
}
expected_timing() { # input lines -> expected output lines: 2 p_k, p_k + p_k+1, the last by
                   # its duration, or when it has none by the interval before it
    awk -F, '$1 == "in" { p[++n] = $2; d[n] = $3 }
        END {
            if (n > 1 && d[n] <= 0) d[n] = p[n] - p[n - 1]
            for (k = 1; k <= n; k++) {
                next_p = k < n ? p[k + 1] : p[k] + d[k]
                printf "out,%d,%d\nout,%d,%d\n", 2 * p[k], next_p - p[k], p[k] + next_p, next_p - p[k]
            }
        }'
}
for case in "CFR|$src,trim=end_frame=5" "VFR|$src,trim=end_frame=6,setpts='N*N*3+N+7'" \
            "VFR, 90 kHz|$src,trim=end_frame=4,settb=1/90000,setpts='N*3003+gt(N,2)*50000+11'"; do
    name=${case%%|*} graph=${case#*|}
    t=$(timing "$graph")
    got=$(echo "$t" | grep '^out,')
    want=$(echo "$t" | expected_timing)
    n_in=$(echo "$t" | grep -c '^in,')
    [ "$n_in" -gt 0 ] && [ "$got" = "$want" ] &&
        pass "$name: $n_in frames, keyframes at 2p_k, in-betweens at p_k+p_k+1, contiguous durations" ||
        fail "$name timestamps" "$(printf 'input:\n%s\nexpected:\n%s\ngot:\n%s' "$(echo "$t" | grep '^in,')" "$want" "$got")"
done

out=$(frames "$src,trim=end_frame=5,$dsfn" | cut -d, -f1,3,4)
want=$(for i in 0 1 2 3 4 5 6 7 8 9; do echo "$i,128,96"; done)
[ "$out" = "$want" ] && pass "ffprobe -show_frames: pts 0..9, 128x96" || fail "ffprobe -show_frames pts and size" "$out"

out=$(ffp -f lavfi -i "$src,trim=end_frame=3,$dsfn" -show_entries stream=time_base,r_frame_rate -of csv=p=0)
[ "$out" = "20/1,1/20" ] && pass "frame rate 10 -> 20/1, time base 1/10 -> 1/20" || fail "frame rate and time base" "$out"

# --- Pictures: with the decoder outputs zeroed the network returns its residual
# bases, so keyframes must be exactly the nearest-upscaled inputs and in-between
# frames the mean of their neighbours: checks which frame goes where, end to end.
zero="$work/zero.dsfn"
"$tool" init "$zero" --width 4 --zero-residual > /dev/null
psnr_of() { sed -n 's/.*PSNR .*average:\([0-9.inf]*\).*/\1/p' | tail -n 1; }
moving="testsrc2=size=32x24:rate=10,trim=end_frame=5,format=gbrp"
k=$(ff -f lavfi -i "$moving" -filter_complex \
    "[0:v]split[a][b];[a]dsfn=model=$zero$dev,select='not(mod(n\,2))',setpts=N/TB[k];[b]scale=128:96:flags=neighbor,setpts=N/TB[r];[k][r]psnr" \
    -f null - 2>&1 | psnr_of)
[ "$k" = inf ] && pass "keyframes are the inputs, nearest-upscaled (PSNR $k)" || fail "keyframes are the inputs (PSNR '$k')"
b=$(ff -f lavfi -i "$moving" -filter_complex \
    "[0:v]split[a][b];[a]dsfn=model=$zero$dev,select='mod(n\,2)*lt(n\,8)',setpts=N/TB[i];[b]tmix=frames=2,select='gte(n\,1)',scale=128:96:flags=neighbor,setpts=N/TB[r];[i][r]psnr" \
    -f null - 2>&1 | psnr_of)
awk -v p="$b" 'BEGIN { exit !(p == "inf" || p + 0 >= 45) }' &&
    pass "in-between frames are the means of their neighbours (PSNR $b)" || fail "in-between frames are means (PSNR '$b')"

# --- Scene cuts and timestamp gaps: frames across them are never mixed ----------------
# With the zero-residual model the in-between frame at a cut must equal the last
# frame before it (the window is padded there); mixing would blend both sides.
two_scenes="testsrc2=size=32x24:rate=10:duration=0.5[a];smptebars=size=32x24:rate=10:duration=0.5[b];[a][b]concat=n=2:v=1:a=0,format=gbrp"
between_vs() { # source graph, dsfn options, output index, input index -> PSNR of that output vs that input upscaled
    ff -f lavfi -i "$1[out0]" -filter_complex \
        "[0:v]split[x][y];[x]dsfn=model=$zero$dev$2,select='eq(n\,$3)',setpts=N/TB[o];[y]select='eq(n\,$4)',scale=iw*4:ih*4:flags=neighbor,setpts=N/TB[r];[o][r]psnr" \
        -f null - 2>&1 | psnr_of
}
cut_case() { # name, graph, dsfn options, in-between index, last frame before, first after, expect cut (1/0)
    before=$(between_vs "$2" "$3" "$4" "$5") after=$(between_vs "$2" "$3" "$4" "$6")
    if [ "$7" = 1 ]; then
        [ "$before" = inf ] && [ "$after" != inf ] && [ -n "$after" ] &&
            pass "$1: in-between = last frame before (PSNR $before), not the next ($after dB)" ||
            fail "$1: expected a cut (PSNR vs before '$before', vs after '$after')"
    else
        [ -n "$before" ] && [ "$before" != inf ] && [ "$after" != inf ] &&
            pass "$1: frames blended as before ($before / $after dB)" ||
            fail "$1: expected a blend (PSNR vs before '$before', vs after '$after')"
    fi
}
cut_case "hard cut detected" "$two_scenes" "" 9 4 5 1
cut_case "hard cut, scene=0" "$two_scenes" ":scene=0" 9 4 5 0
cut_case "scdet metadata honoured" "$two_scenes,scdet=threshold=10" ":scene=100" 9 4 5 1
jump="testsrc2=size=32x24:rate=10,trim=end_frame=6,setpts=N+gt(N\\,2)*100,format=gbrp"
cut_case "10 s timestamp gap" "$jump" "" 5 2 3 1
cut_case "10 s timestamp gap, gap=0" "$jump" ":gap=0" 5 2 3 0
out=$(ff -v verbose -f lavfi -i "$two_scenes[out0]" -vf "dsfn=model=$zero$dev" -f null - 2>&1)
echo "$out" | grep -q '10 frames in, 20 frames out, .* 1 cuts' && pass "cut: still 2N frames, 1 cut logged" ||
    fail "cut: frame count and log" "$(echo "$out" | grep -i 'dsfn')"

# --- Missing and backward timestamps: repaired, still 2N strictly increasing frames ----
out=$(ff -f lavfi -i "$src,trim=end_frame=5" \
    -vf "setpts='if(eq(N\,2)\,0/0\,if(eq(N\,3)\,PTS-5\,PTS))',$dsfn,showinfo" -f null - 2>&1)
pts=$(echo "$out" | sed -n 's/.*Parsed_showinfo.* pts: *\([0-9-]*\) .*/\1/p' | tr '\n' ' ')
if [ "$(echo "$pts" | wc -w)" = 10 ] && echo "$pts" | awk '{ for (i = 2; i <= NF; i++) if ($i <= $(i - 1)) exit 1 }' &&
   echo "$out" | grep -q 'Frame with no timestamp' && echo "$out" | grep -q 'Frame with non-increasing timestamp'; then
    pass "missing and backward pts: warned, 10 frames, increasing ($pts)"
else
    fail "missing and backward pts" "$pts
$out"
fi

# --- Level-1 reuse: one DSFN1 and one DSFN2 pass per input frame --------------------
out=$(ff -v verbose -f lavfi -i "$src,trim=end_frame=5" -vf "$dsfn" -f null - 2>&1)
echo "$out" | grep -q '5 frames in, 10 frames out, 6 DSFN1 passes, 5 DSFN2 passes' &&
    pass "5 frames: 6 DSFN1 passes (one per frame + end padding), 5 DSFN2 passes" || fail "pass counts" "$(echo "$out" | grep -i dsfn)"
echo "$out" | grep -q 'engine time: DSFN1 [0-9.]* s, DSFN2 [0-9.]* s, pictures to tensors [0-9.]* s, tensors to pictures [0-9.]* s' &&
    pass "verbose log: time by stage" || fail "time by stage" "$(echo "$out" | grep -i dsfn)"

# --- Pixel formats: RGB passes through as is, the rest is converted -------------------
for fmt in rgb24 gbrp; do
    out=$(ffp -f lavfi -i "$src,trim=end_frame=2,format=$fmt,$dsfn" -show_entries stream=pix_fmt,width,height -of csv=p=0)
    [ "$out" = "128,96,$fmt" ] && pass "$fmt in, $fmt out" || fail "$fmt in, $fmt out" "$out"
done
for fmt in yuv420p yuv444p10le rgba gray nv12; do
    out=$(crc -f lavfi -i "$src,trim=end_frame=3,format=$fmt" -vf "$dsfn" -fps_mode passthrough)
    got=$(echo "$out" | grep -c '^0, ')
    [ "$got" = 6 ] && pass "$fmt input is converted: 3 frames in, 6 out" || fail "$fmt input" "$(cat "$work/log")"
done

# --- Models by name: the shipped default, and names in DSFN_MODEL_DIR ----------------------
out=$(ff -v verbose -f lavfi -i "$src,trim=end_frame=2" -vf "dsfn=device=$device" -f null - 2>&1)
echo "$out" | grep -q "model .*/dsfn-w16.dsfn: width 16" && echo "$out" | grep -q '2 frames in, 4 frames out' &&
    pass "no model option: the shipped dsfn-w16" || fail "no model option: the shipped dsfn-w16" "$out"
for name in dsfn-w16-denoise dsfn-w32; do
    out=$(ff -v verbose -f lavfi -i "$src,trim=end_frame=2" -vf "dsfn=model=$name$dev" -f null - 2>&1)
    echo "$out" | grep -q "model .*/$name.dsfn: width" && echo "$out" | grep -q '2 frames in, 4 frames out' &&
        pass "model=$name: a shipped model by name" || fail "model=$name: a shipped model by name" "$out"
done
out=$(DSFN_MODEL_DIR=$work ff -v verbose -f lavfi -i "$src,trim=end_frame=2" -vf "dsfn=model=w4$dev" -f null - 2>&1)
echo "$out" | grep -q "model $work/w4.dsfn: width 4" && pass "model=w4 found in DSFN_MODEL_DIR" ||
    fail "model=w4 found in DSFN_MODEL_DIR" "$out"

# --- Two instances in one graph share the process's memory policy, and change nothing ---
# Each instance's frames are exactly what it makes alone, though the second, on
# pictures of another size, ends and closes its segments early.
two_src="testsrc2=size=48x36:rate=10,trim=end_frame=6,format=gbrp"
alone=$(crc -f lavfi -i "$two_src" -vf "$dsfn" -fps_mode passthrough)
both=$(ff -f lavfi -i "$two_src" -filter_complex "[0:v]split[a][b];[a]$dsfn[x];[b]scale=32:24,$dsfn,trim=end_frame=3[y]" \
    -map "[x]" -fps_mode passthrough -f framecrc - -map "[y]" -f null - 2> "$work/log")
[ -n "$alone" ] && [ "$(echo "$alone" | grep '^0, ')" = "$(echo "$both" | grep '^0, ')" ] &&
    pass "two instances in one graph: each makes the frames it makes alone" ||
    fail "two instances in one graph: the same frames as alone" "$(cat "$work/log")"

# --- Tiles and precision: the same pictures, within a tolerance --------------------------
same_as_whole() { # dsfn options -> PSNR of its output against the whole-picture fp32 output
    ff -f lavfi -i "testsrc2=size=72x56:rate=10,trim=end_frame=3,format=gbrp" -filter_complex \
        "[0:v]split[a][b];[a]$dsfn$1[x];[b]$dsfn:precision=fp32[y];[x][y]psnr" -f null - 2>&1 | psnr_of
}
p=$(same_as_whole ":tile=24:overlap=24")
awk -v p="$p" 'BEGIN { exit !(p == "inf" || p + 0 >= 45) }' && pass "tile=24: seamless against whole pictures (PSNR $p)" ||
    fail "tile=24 seamless (PSNR '$p')"
p=$(ff -f lavfi -i "testsrc2=size=72x56:rate=10,trim=end_frame=3,format=gbrp" -filter_complex \
    "[0:v]split[a][b];[a]dsfn=model=$model:threads=1$dev[x];[b]dsfn=model=$model:threads=2$dev[y];[x][y]psnr" -f null - 2>&1 | psnr_of)
awk -v p="$p" 'BEGIN { exit !(p == "inf" || p + 0 >= 50) }' && pass "threads=1 and threads=2 agree (PSNR $p)" ||
    fail "threads=1 and threads=2 agree (PSNR '$p')"
p=$(same_as_whole ":precision=bf16")
awk -v p="$p" 'BEGIN { exit !(p == "inf" || p + 0 >= 40) }' && pass "precision=bf16: close to fp32 (PSNR $p)" ||
    fail "precision=bf16 close to fp32 (PSNR '$p')"

# --- precision=auto: among what the recipe vouches for, the fastest here, measured once --
out=$(ff -h filter=dsfn 2>&1)
echo "$out" | grep -q '^  *precision .*(default auto)' && pass "ffmpeg -h filter=dsfn: precision (default auto)" ||
    fail "ffmpeg -h filter=dsfn: precision (default auto)" "$out"
auto_run() { # dsfn options -> the filter's first info line about auto, or the log when it failed
    # (ffmpeg creates the filter twice, the second time after the first has cached its choice)
    ff -f lavfi -i "$src,trim=end_frame=2" -vf "$1" -f null - 2> "$work/log" &&
        sed -n 's/.*\] \(precision .* (auto: .*)\)$/\1/p' "$work/log" | head -n 1 || cat "$work/log"
}
out=$(auto_run "$dsfn")
[ "$out" = "precision fp32 (auto: the model's recipe names no other precision evaluated within 0.05 dB of fp32)" ] &&
    pass "auto, no recipe: fp32, and why" || fail "auto, no recipe: fp32, and why" "$out"
mkdir -p "$work/auto"
cp "$model" "$work/auto/m.dsfn"
printf '# how it was made\nprecisions: fp32 bf16\n' > "$work/auto/m.dsfn.recipe"
auto="dsfn=model=$work/auto/m.dsfn:threads=2$dev"
out=$(auto_run "$auto")
echo "$out" | grep -Eq '^precision (fp32|bf16) \(auto: .*fp32 here, measured in [0-9.]+ s\)$' &&
    pass "auto, recipe lists bf16: measured on first use ($out)" || fail "auto, recipe lists bf16: measured" "$out"
chosen=$(echo "$out" | sed -n 's/^precision \([a-z0-9]*\) .*/\1/p')
out=$(auto_run "$auto")
echo "$out" | grep -q "^precision $chosen (auto: .* here, as measured before ($XDG_CACHE_HOME/vf_dsfn/precision-auto))$" &&
    pass "auto, second run: the cached choice" || fail "auto, second run: the cached choice ($chosen)" "$out"
a=$(crc -f lavfi -i "$src,trim=end_frame=3" -vf "$auto" | grep '^0, ')
b=$(crc -f lavfi -i "$src,trim=end_frame=3" -vf "$auto:precision=${chosen:-none}" | grep '^0, ')
[ -n "$a" ] && [ "$a" = "$b" ] && pass "auto's pictures are those of the precision it names ($chosen)" ||
    fail "auto's pictures are those of precision=$chosen" "$(cat "$work/log")"
printf 'garbage\n\001\377\t\tbf16\n' > "$XDG_CACHE_HOME/vf_dsfn/precision-auto"
out=$(auto_run "$auto")
echo "$out" | grep -q "measured in" && pass "auto, a corrupt cache: measured again" || fail "auto, a corrupt cache" "$out"
out=$(XDG_CACHE_HOME=/proc/no-such-folder auto_run "$auto")
echo "$out" | grep -q "measured in" && pass "auto, a cache it cannot write: measured, and runs" ||
    fail "auto, a cache it cannot write" "$out"
two_graphs() { # format, graph a, graph b -> PSNR of their outputs for one small input
    ff -f lavfi -i "testsrc2=size=36x28:rate=10,trim=end_frame=3,format=$1" -filter_complex \
        "[0:v]split[a][b];[a]$2[x];[b]$3[y];[x][y]psnr" -f null - 2>&1 | psnr_of
}
# vflip hands on bottom-up pictures (negative linesizes): the same pictures as
# a top-down copy (hflip twice) of them.
for fmt in gbrp rgb24; do
    p=$(two_graphs $fmt "vflip,$dsfn" "vflip,hflip,hflip,$dsfn")
    [ "$p" = inf ] && pass "bottom-up $fmt input (vflip): same as a top-down copy" || fail "bottom-up $fmt input (PSNR '$p')"
done
# The mean over flipped copies commutes with those flips: a flipped input gives
# exactly the flipped output. One pass of the random test model does not.
flipped_vs_plain() { two_graphs gbrp "$dsfn$1" "$2,$dsfn$1,$2"; } # dsfn options, flip filter
p=$(flipped_vs_plain ":ensemble=4" vflip)
[ "$p" = inf ] && pass "ensemble=4: upside-down input, upside-down output" || fail "ensemble=4 flip-equivariant (PSNR '$p')"
p=$(flipped_vs_plain ":ensemble=hflip" hflip)
[ "$p" = inf ] && pass "ensemble=hflip (2): mirrored input, mirrored output" || fail "ensemble=2 mirror-equivariant (PSNR '$p')"
p=$(flipped_vs_plain "" hflip)
[ -n "$p" ] && [ "$p" != inf ] && pass "ensemble=1: one pass is not mirror-equivariant (PSNR $p)" ||
    fail "ensemble=1 not mirror-equivariant (PSNR '$p')"
# edge_mirror=P is FFmpeg's own mirrored border (pad + fillborders=mode=mirror)
# before dsfn and the crop after it, exactly.
p=$(two_graphs gbrp "$dsfn:edge_mirror=4" \
    "pad=iw+8:ih+8:4:4,fillborders=left=4:right=4:top=4:bottom=4:mode=mirror,$dsfn:edge_mirror=0,crop=iw-32:ih-32:16:16")
[ "$p" = inf ] && pass "edge_mirror=4: the same as pad + fillborders=mode=mirror, cropped" ||
    fail "edge_mirror=4 against pad + fillborders (PSNR '$p')"
p=$(two_graphs gbrp "$dsfn:edge_mirror=4" "$dsfn:edge_mirror=0")
[ -n "$p" ] && [ "$p" != inf ] && pass "edge_mirror=4 changes the picture (PSNR $p against none)" ||
    fail "edge_mirror=4 against none (PSNR '$p')"
p=$(two_graphs gbrp "$dsfn" "$dsfn:edge_mirror=4")
[ "$p" = inf ] && pass "edge_mirror is 4 by default" || fail "default edge_mirror against 4 (PSNR '$p')"
# The models with zero residuals output their (flip-equivariant) bases: four
# copies of the same picture average to that picture, exactly. With one level,
# DSFN2 hands on level-1 maps the engine keeps: averaging must leave them alone.
"$tool" init "$work/zero-l1.dsfn" --width 4 --levels 1 --zero-residual > /dev/null
for m in "$zero" "$work/zero-l1.dsfn"; do
    p=$(two_graphs gbrp "dsfn=model=$m:ensemble=4$dev" "dsfn=model=$m$dev")
    [ "$p" = inf ] && pass "ensemble=4 of an equivariant model ($(basename "$m")): its own pictures" ||
        fail "ensemble=4 of the zero-residual model $(basename "$m") (PSNR '$p')"
done
out=$(ff -f lavfi -i "testsrc2=size=72x56:rate=10,trim=end_frame=2" -vf "$dsfn:tile=24" -f null - 2>&1)
echo "$out" | grep -q '72x56 pictures run in tiles of 24 pixels' && pass "tiles are reported" || fail "tiles are reported" "$out"

# --- Tiny and odd frame sizes ----------------------------------------------------------
for size in 1x1 2x2 3x3 5x5 7x7 7x3 1x9 33x17; do
    w=${size%x*} h=${size#*x}
    out=$(crc -f lavfi -i "testsrc2=size=32x32:rate=10,trim=end_frame=3,scale=$w:$h,format=gbrp" -vf "$dsfn" -fps_mode passthrough)
    got=$(echo "$out" | grep -c '^0, ')
    echo "$out" | grep -q "^#dimensions 0: $((4 * w))x$((4 * h))\$" && [ "$got" = 6 ] &&
        pass "$size input: 6 frames of $((4 * w))x$((4 * h))" || fail "$size input (got $got frames)" "$out
$(cat "$work/log")"
done

# --- A model of another width and a single level is just another model -------------------
"$tool" init "$work/w8l1.dsfn" --width 8 --levels 1 > /dev/null
out=$(crc -f lavfi -i "$src,trim=end_frame=3" -vf "dsfn=model=$work/w8l1.dsfn$dev" -fps_mode passthrough)
[ "$(echo "$out" | grep -c '^0, ')" = 6 ] && pass "width-8 single-level model: 3 frames in, 6 out" ||
    fail "width-8 single-level model" "$(cat "$work/log")"

# --- A widened model (dsfn-tool widen) makes the same pictures as the narrow one --------------
"$tool" widen "$model" "$work/w4to6.dsfn" --width 6 --seed 2 > /dev/null
w=$(ff -f lavfi -i "$moving" -filter_complex \
    "[0:v]split[a][b];[a]dsfn=model=$model$dev[n];[b]dsfn=model=$work/w4to6.dsfn$dev[w];[n][w]psnr" -f null - 2>&1 | psnr_of)
awk -v p="$w" 'BEGIN { exit !(p == "inf" || p + 0 >= 60) }' &&
    pass "width 4 widened to 6: the same pictures (PSNR $w)" || fail "widened model's pictures (PSNR '$w')"
out=$("$tool" widen "$model" "$work/w2.dsfn" --width 2 2>&1)
[ $? = 1 ] && echo "$out" | grep -q 'must not be smaller' && [ ! -e "$work/w2.dsfn" ] &&
    pass "dsfn-tool widen refuses a smaller width" || fail "dsfn-tool widen to a smaller width" "$out"

# --- The mean of weights files (dsfn-tool average) --------------------------------------------
"$tool" average "$work/mean.dsfn" "$model" "$model" > /dev/null
w=$(ff -f lavfi -i "$moving" -filter_complex \
    "[0:v]split[a][b];[a]dsfn=model=$model$dev[n];[b]dsfn=model=$work/mean.dsfn$dev[w];[n][w]psnr" -f null - 2>&1 | psnr_of)
awk -v p="$w" 'BEGIN { exit !(p == "inf" || p + 0 >= 60) }' && grep -q "dsfn-tool average" "$work/mean.dsfn.recipe" &&
    pass "a model averaged with itself: the same pictures (PSNR $w), a recipe" || fail "averaged model's pictures (PSNR '$w')"
out=$("$tool" average "$work/mixed.dsfn" "$model" "$work/w8l1.dsfn" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q 'another architecture' && [ ! -e "$work/mixed.dsfn" ] &&
    pass "dsfn-tool average refuses two architectures" || fail "dsfn-tool average of two architectures" "$out"

# --- Size change mid-stream ---------------------------------------------------------------
# The ffmpeg tool scales a changed input back to the first size itself; a graph that
# hands dsfn the new size (scale with eval=frame here) gets every frame before the
# change, then an error.
out=$(crc -f lavfi -i "$src,trim=end_frame=6" -vf "format=gbrp,scale=w='if(gte(n\,3)\,40\,32)':h=-2:eval=frame,$dsfn" \
    -fps_mode passthrough)
rc=$?
got=$(echo "$out" | grep -c '^0, ')
case $rc in 0|124|132|134|135|136|137|139) rc_ok=0 ;; *) rc_ok=1 ;; esac # see expect_error
if [ $rc_ok = 1 ] && [ "$got" = 4 ] && grep -q 'Frame size changed mid-stream from 32x24 to 40x30' "$work/log"; then
    pass "size change mid-stream: the 4 frames before it, then an error (exit $rc)"
else
    fail "size change mid-stream (exit $rc, $got frames)" "$(cat "$work/log")"
fi

# --- Transcoding with audio: durations stay in sync ------------------------------------
if ff -encoders 2>/dev/null | grep -q libx264; then venc=libx264; else venc=mpeg4; fi
out=$(ff -f lavfi -i "$src:duration=2" -f lavfi -i "sine=frequency=440:duration=2" \
    -filter_complex "[0:v]$dsfn,format=yuv420p[v]" -map "[v]" -map 1:a -c:v $venc -c:a aac \
    "$work/av.mp4" 2>&1)
durs=$(ffp -show_entries stream=codec_type,duration,nb_frames -of csv=p=0 "$work/av.mp4")
vd=$(echo "$durs" | awk -F, '$1 == "video" { print $2 }')
vn=$(echo "$durs" | awk -F, '$1 == "video" { print $3 }')
ad=$(echo "$durs" | awk -F, '$1 == "audio" { print $2 }')
if [ -n "$vd" ] && [ -n "$ad" ] && [ "$vn" = 40 ] &&
   awk -v v="$vd" -v a="$ad" 'BEGIN { d = v - a; if (d < 0) d = -d; exit !(d <= 0.05) }'; then
    pass "mp4 with audio: 40 video frames, video $vd s vs audio $ad s"
else
    fail "mp4 with audio in sync" "$out
$durs"
fi

# --- Chained with other filters in -filter_complex --------------------------------------
out=$(crc -f lavfi -i "testsrc2=size=64x48:rate=25:duration=1" \
    -filter_complex "[0:v]fps=10,scale=20:14,$dsfn,format=yuv420p[v]" -map "[v]" -fps_mode passthrough)
got=$(echo "$out" | grep -c '^0, ')
echo "$out" | grep -q '^#dimensions 0: 80x56' && [ "$got" = 20 ] &&
    pass "fps,scale,dsfn,format chain: 20 frames of 80x56" || fail "filter chain (got $got frames)" "$out
$(cat "$work/log")"

# --- Errors: non-zero exit and a message naming the problem ------------------------------
expect_error() { # name, expected message, ffmpeg arguments...
    name=$1 msg=$2
    shift 2
    out=$(ff "$@" 2>&1)
    rc=$?
    case $rc in # ffmpeg exits with AVERROR & 255; these are a timeout or a signal
        0|124|132|134|135|136|137|139) crashed=1 ;;
        *) crashed=0 ;;
    esac
    if [ $crashed = 0 ] && echo "$out" | grep -q -- "$msg"; then
        pass "error: $name"
    else
        fail "error: $name (exit $rc, want message '$msg')" "$out"
    fi
}
null_out="-f null -"
# The same two-frame input, with the filter options under test.
expect_vf_error() { # name, expected message, -vf graph
    expect_error "$1" "$2" -f lavfi -i "$src,trim=end_frame=2" -vf "$3" $null_out
}
expect_vf_error "unknown model name" "No model named 'nosuch' in" "dsfn=model=nosuch"
expect_vf_error "missing model file" "$work/nope.dsfn: cannot open model file" "dsfn=model=$work/nope.dsfn"
printf 'not a model' > "$work/bad.dsfn"
expect_vf_error "not a model file" "not a DSFN weights file" "dsfn=model=$work/bad.dsfn"
head -c 1000 "$model" > "$work/cut.dsfn"
expect_vf_error "truncated model file" "truncated" "dsfn=model=$work/cut.dsfn"
expect_vf_error "model is a directory" "not a regular file" "dsfn=model=$work"
: > "$work/empty.dsfn"
expect_vf_error "empty model file" "model file is empty" "dsfn=model=$work/empty.dsfn"
size=$(wc -c < "$model")
for cut in 8 20 44 $((size / 2)) $((size - 1)); do
    head -c $cut "$model" > "$work/cut$cut.dsfn"
    expect_vf_error "model file truncated to $cut bytes" "truncated" "dsfn=model=$work/cut$cut.dsfn"
done
head -c 4096 /dev/urandom > "$work/random.dsfn"
expect_vf_error "random bytes as model" "not a DSFN weights file" "dsfn=model=$work/random.dsfn"
cp "$model" "$work/v99.dsfn"
printf '\143' | dd of="$work/v99.dsfn" bs=1 seek=8 conv=notrunc 2> /dev/null
expect_vf_error "unsupported format version" "unsupported weights format version 99" "dsfn=model=$work/v99.dsfn"
# Without a GPU (or without CUDA in this LibTorch) device=cuda must fail clearly;
# with one it must run.
if out=$(crc -f lavfi -i "$src,trim=end_frame=2" -vf "$dsfn:device=cuda" -fps_mode passthrough); then
    [ "$(echo "$out" | grep -c '^0, ')" = 4 ] && pass "device=cuda: a GPU is here, and 2 frames in give 4 out" ||
        fail "device=cuda on a GPU" "$(cat "$work/log")"
else
    expect_vf_error "device=cuda without a GPU or without CUDA" "CUDA is not available" "$dsfn:device=cuda"
fi
expect_vf_error "malformed device" "invalid device 'gpu'" "$dsfn:device=gpu"
expect_vf_error "negative threads" "out of range" "dsfn=model=$model:threads=-1"
expect_vf_error "edge_mirror too wide" "out of range" "dsfn=model=$model:edge_mirror=65"
expect_vf_error "unknown mode" "mode" "$dsfn:mode=sideways"
expect_error "frame too large for the memory limit" "1280x720 (1288x728 with edge_mirror=4) pictures need about" \
    -f lavfi -i "testsrc2=size=1280x720:rate=10,trim=end_frame=2" -vf "$dsfn:max_memory=0.5" $null_out
expect_error "output too large to allocate" "too large to upscale" \
    -f lavfi -i "color=size=6000x6000:rate=1,trim=end_frame=1" -vf "$dsfn" $null_out
expect_vf_error "unknown option" "nosuch" "$dsfn:nosuch=1"
expect_vf_error "tile smaller than allowed" "tile 8 is too small" "$dsfn:tile=8"

# --- precision=int8: activation ranges from dsfn-tool quantize, close to fp32 ------------
# Training data in miniature: two photos and one clip of PPM frames, written as raw
# RGB with a P6 header each (the sanitizer build's FFmpeg has no image muxer).
ppm_frames() { # lavfi source, width, height, frames, output prefix
    ff -f lavfi -i "$1" -frames:v "$4" -f rawvideo -pix_fmt rgb24 "$5.rgb" 2>> "$work/log" &&
        split -b $(($2 * $3 * 3)) -d -a 5 "$5.rgb" "$5" && rm -f "$5.rgb" &&
        for f in "$5"[0-9]*; do { printf 'P6\n%d %d\n255\n' "$2" "$3"; cat "$f"; } > "$f.ppm" && rm -f "$f"; done
}
mkdir -p "$work/q/photos" "$work/q/clips/c"
: > "$work/log"
ppm_frames "testsrc2=size=256x192" 256 192 1 "$work/q/photos/a"
ppm_frames "mandelbrot=size=256x192" 256 192 1 "$work/q/photos/b"
ppm_frames "testsrc2=size=160x120:rate=10" 160 120 12 "$work/q/clips/c/f"
cp "$model" "$work/q/m.dsfn"
out=$("$tool" quantize "$work/q/m.dsfn" --photos "$work/q/photos" --clips "$work/q/clips" --windows 8 --patch 16 2>&1)
echo "$out" | grep -Eq '^int8 against float32 on [0-9]+ other windows: PSNR [0-9.]+ dB$' && [ -f "$work/q/m.dsfn.int8" ] &&
    pass "dsfn-tool quantize: MODEL.int8, and how close int8 comes" || fail "dsfn-tool quantize" "$out"
out=$("$tool" quantize "$work/q/m.dsfn" --photos "$work/q/photos" 2>&1)
echo "$out" | grep -q "exists (--force replaces it)" && pass "dsfn-tool quantize keeps an existing MODEL.int8" ||
    fail "dsfn-tool quantize keeps an existing MODEL.int8" "$out"
int8="dsfn=model=$work/q/m.dsfn:threads=2$dev"
if [ "$device" = cpu ]; then
    p=$(ff -f lavfi -i "testsrc2=size=72x56:rate=10,trim=end_frame=3,format=gbrp" -filter_complex \
        "[0:v]split[a][b];[a]$int8:precision=int8[x];[b]$int8:precision=fp32[y];[x][y]psnr" -f null - 2>&1 | psnr_of)
    awk -v p="$p" 'BEGIN { exit !(p != "inf" && p + 0 >= 30) }' && pass "precision=int8: close to fp32 (PSNR $p)" ||
        fail "precision=int8 close to fp32 (PSNR '$p')" "$(cat "$work/log")"
    printf 'precisions: fp32 int8\n' > "$work/q/m.dsfn.recipe"
    out=$(auto_run "$int8")
    echo "$out" | grep -Eq '^precision (fp32|int8) \(auto: .*fp32 here, measured in [0-9.]+ s\)$' &&
        pass "auto, recipe lists int8: measured ($out)" || fail "auto, recipe lists int8: measured" "$out"
    cp "$model" "$work/q/lone.dsfn"
    printf 'precisions: fp32 int8\n' > "$work/q/lone.dsfn.recipe"
    # A cache of its own: lone.dsfn has m.dsfn's weights and recipe, so m.dsfn's cached
    # choice (fp32 wherever int8 measured slower, as under ASan) would answer without
    # trying int8 at all.
    out=$(XDG_CACHE_HOME="$work/lone-cache" auto_run "dsfn=model=$work/q/lone.dsfn:threads=2")
    echo "$out" | grep -q "^precision fp32 (auto: the only precision that loaded; int8 not tried: .*lone.dsfn.int8" &&
        pass "auto, recipe lists int8 but no MODEL.int8: fp32, and why" || fail "auto, int8 without MODEL.int8" "$out"
    # The shipped ranges belong to the shipped weights.
    out=$(ff -f lavfi -i "$src,trim=end_frame=3" -vf "dsfn=model=dsfn-w16:precision=int8:threads=2" -f null - 2>&1)
    [ $? -eq 0 ] && pass "the shipped dsfn-w16 runs in int8" || fail "the shipped dsfn-w16 runs in int8" "$out"
    expect_int8_error() { # name, expected message
        expect_error "$1" "$2" -f lavfi -i "$src,trim=end_frame=2" -vf "$int8:precision=int8" $null_out
    }
    mv "$work/q/m.dsfn.int8" "$work/q/good.int8"
    expect_int8_error "int8 without MODEL.int8" "m.dsfn.int8: No such file or directory (precision int8 needs"
    head -c 300 "$work/q/good.int8" > "$work/q/m.dsfn.int8"
    expect_int8_error "int8, a truncated MODEL.int8" "m.dsfn.int8"
    printf '\001\377garbage' > "$work/q/m.dsfn.int8"
    expect_int8_error "int8, MODEL.int8 of garbage" "not a dsfn int8 ranges file"
    cp "$work/q/good.int8" "$work/q/m.dsfn.int8"
    "$tool" init "$work/q/m.dsfn" --width 4 --seed 2 --force > /dev/null
    expect_int8_error "int8, MODEL.int8 of other weights" "measured on other weights"
else
    expect_vf_error "precision=int8 on $device" "precision int8 runs on the CPU only" "$dsfn:precision=int8"
fi

expect_vf_error "unknown precision" "precision" "$dsfn:precision=fp8"
if [ "$device" = cpu ]; then
    expect_vf_error "precision=fp16 on the CPU" "precision fp16 needs device=cuda" "$dsfn:precision=fp16"
else
    p=$(same_as_whole ":precision=fp16")
    awk -v p="$p" 'BEGIN { exit !(p == "inf" || p + 0 >= 40) }' && pass "precision=fp16 on $device: close to fp32 (PSNR $p)" ||
        fail "precision=fp16 on $device close to fp32 (PSNR '$p')"
fi
expect_vf_error "ensemble of 3" "ensemble 3: 1 (off), 2 (and mirrored) or 4" "$dsfn:ensemble=3"

# --- The evaluation script refuses impossible settings before fetching or writing -------
expect_eval_error() { # name, expected message, MAX_KEYFRAMES, EVAL_BLUR[, EVAL_PAD[, EVAL_SET]]
    if EVAL_BLUR=$4 EVAL_PAD=${5:-} EVAL_SET=${6:-} "$top/scripts/eval/eval.sh" "$build" "$work/eval-cache" "$3" - > /dev/null 2> "$work/log"; then
        fail "eval.sh: $1 (exit 0)"
    elif ! grep -q "$2" "$work/log"; then
        fail "eval.sh: $1 (message)" "$(cat "$work/log")"
    elif [ -e "$work/eval-cache" ]; then
        fail "eval.sh: $1 (wrote the cache)"
    else
        pass "eval.sh: $1"
    fi
}
expect_eval_error "even EVAL_BLUR" "EVAL_BLUR must be an odd number of frames, not '2'" 60 2
expect_eval_error "EVAL_BLUR not a number" "EVAL_BLUR must be an odd number of frames, not 'x'" 60 x
expect_eval_error "one keyframe" "MAX_KEYFRAMES must be a number of at least 2, not '1'" 1 ""
expect_eval_error "EVAL_PAD mode" "EVAL_PAD must be P:MODE, P 1-99 pixels, MODE mirror, reflect or smear, not '8:wrap'" 60 "" 8:wrap
expect_eval_error "EVAL_PAD width" "EVAL_PAD must be P:MODE" 60 "" 0:mirror
expect_eval_error "EVAL_SET" "EVAL_SET must be empty or heldout, not 'all'" 60 "" "" all

. "$(dirname "$0")/load-and-inputs.sh"
. "$(dirname "$0")/user-paths.sh"
. "$(dirname "$0")/cuda-frames.sh"

finish
