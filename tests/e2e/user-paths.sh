# End-to-end tests of the paths users take around the filter: mid-stream size
# changes, the sample scripts, the README's commands, dsfn-tool, model names,
# settings that would look like a hang, and high bit depth.
# Sourced by tests/e2e/run.sh, whose helpers (ff, crc, ffp, pass, fail, ...) it uses.

has() { ff "-$1" 2>/dev/null | grep -q " $2 "; } # has encoders|decoders|muxers|demuxers NAME
# The ASan build has only the codecs and formats of the core tests (mk/check.mk):
# a test that needs more says so and is skipped there.
full_build=1
for need in "encoders libx264" "muxers matroska" "encoders ffv1" "encoders mov_text" "encoders srt"; do
    has $need || full_build=0
done
skip() { echo "SKIP: $1 (this build has no libx264, matroska, ffv1 or subtitle encoders)"; }

# --- A size change mid-stream loses nothing (fftools drains the old graph) ------------
# The keyframes carry their headers (dump_extra), so the decoder sees the new size.
ff -f lavfi -i "testsrc2=size=32x18:rate=15,trim=end_frame=15" -c:v mpeg4 -q:v 2 -bsf:v dump_extra=freq=keyframe "$work/part1.mp4" 2> /dev/null
ff -f lavfi -i "smptebars=size=48x28:rate=15,trim=end_frame=15" -c:v mpeg4 -q:v 2 -bsf:v dump_extra=freq=keyframe "$work/part2.mp4" 2> /dev/null
printf "file 'part1.mp4'\nfile 'part2.mp4'\n" > "$work/list.txt"
# Output k of 60 at k/30 s: every frame there, each step 1/30 s, across the change.
continuous_60() { # framecrc lines -> exit 0 when 60 frames at a constant step
    grep '^0, ' | awk -F', *' '{ p[n++] = $2 } END {
        if (n != 60) exit 1
        for (i = 1; i < n; i++) if (p[i] - p[i - 1] != p[1] - p[0] || p[1] <= p[0]) exit 1 }'
}
for vf in "$dsfn" "scale=32:18,$dsfn"; do
    out=$(crc -f concat -i "$work/list.txt" -vf "$vf" -fps_mode passthrough)
    n=$(echo "$out" | grep -c '^0, ')
    echo "$out" | continuous_60 && grep -q "Reconfiguring filter graph" "$work/log" &&
        pass "concat 32x18 + 48x28 (-vf \"${vf%%=*}...\"): 60 frames, one every 1/30 s across the change" ||
        fail "concat size change with -vf \"$vf\" ($n frames)" "$(echo "$out" | grep '^0, ' | cut -d, -f2 | tr '\n' ' ')
$(cat "$work/log")"
done
if [ $full_build = 1 ]; then
    ff -y -f concat -i "$work/list.txt" -vf "$dsfn" -c:v ffv1 "$work/joined.mkv" 2> "$work/log"
    pts=$(ffp -select_streams v -show_entries frame=pts -of csv=p=0 "$work/joined.mkv")
    # Matroska keeps milliseconds: steps of 33 or 34 ms.
    echo "$pts" | awk '{ p[n++] = $1 } END { if (n != 60) exit 1; for (i = 1; i < n; i++) { d = p[i] - p[i - 1]; if (d < 33 || d > 34) exit 1 } }' &&
        pass "concat size change to ffv1 in Matroska: 60 frames, 33-34 ms apart" ||
        fail "concat size change to ffv1/mkv ($(echo "$pts" | wc -l) frames)" "$(echo "$pts" | tr '\n' ' ')
$(cat "$work/log")"
else
    skip "concat size change to ffv1 in Matroska"
fi

# --- The sample scripts: nothing replaced, nothing lost ---------------------------------
samples="$top/samples"
if [ $full_build = 1 ]; then
    mkdir -p "$work/batch/in"
    clip() { ff -y -f lavfi -i "testsrc2=size=24x16:rate=10,trim=end_frame=3" "$@" 2> /dev/null; }
    clip -c:v mpeg4 "$work/batch/in/a.mp4"
    clip -c:v mpeg4 -vf hflip "$work/batch/in/a.mov"
    clip -c:v mpeg4 "$work/batch/in/b.mp4"
    sums() { (cd "$1" && md5sum -- * 2>/dev/null); }
    before=$(sums "$work/batch/in")
    for same in "$work/batch/in" "$work/batch/in/." "$work/batch/in/../in"; do
        out=$("$samples/batch-enhance.sh" "$same" "$same" "$model" "$ffmpeg" 2>&1)
        rc=$?
        [ $rc = 2 ] && echo "$out" | grep -q "output folder is the input folder" && [ "$(sums "$work/batch/in")" = "$before" ] &&
            pass "batch-enhance.sh refuses the input folder as output ($same), inputs untouched" ||
            fail "batch-enhance.sh with the output folder $same (exit $rc)" "$out"
    done
    out=$("$samples/batch-enhance.sh" "$work/batch/in" "$work/batch/out" "$model" "$ffmpeg" 2>&1)
    rc=$?
    frames_of() { ffp -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 "$1" 2>/dev/null; }
    [ $rc = 0 ] && [ "$(frames_of "$work/batch/out/a.mp4.mkv")" = 6 ] && [ "$(frames_of "$work/batch/out/a.mov.mkv")" = 6 ] &&
        [ "$(frames_of "$work/batch/out/b.mkv")" = 6 ] && [ "$(ls "$work/batch/out" | wc -l)" = 3 ] &&
        ! cmp -s "$work/batch/out/a.mp4.mkv" "$work/batch/out/a.mov.mkv" &&
        pass "batch-enhance.sh: a.mp4 and a.mov give a.mp4.mkv and a.mov.mkv, b.mp4 gives b.mkv" ||
        fail "batch-enhance.sh with inputs sharing a stem (exit $rc)" "$out
$(ls -l "$work/batch/out")"
    kept=$(md5sum < "$work/batch/out/b.mkv")
    out=$("$samples/batch-enhance.sh" "$work/batch/in" "$work/batch/out" "$model" "$ffmpeg" 2>&1)
    rc=$?
    [ $rc = 0 ] && [ "$(echo "$out" | grep -c '^exists: ')" = 3 ] && [ "$(md5sum < "$work/batch/out/b.mkv")" = "$kept" ] &&
        pass "batch-enhance.sh run again: the 3 outputs are kept, not replaced" ||
        fail "batch-enhance.sh rerun (exit $rc)" "$out"

    # mov_text subtitles (phone and store mp4 files) become SubRip in Matroska.
    mkdir -p "$work/subs/in"
    printf '1\n00:00:00,000 --> 00:00:00,250\nHello from mov_text\n' > "$work/subs/s.srt"
    ff -y -f lavfi -i "testsrc2=size=24x16:rate=10,trim=end_frame=3" -i "$work/subs/s.srt" -map 0 -map 1 \
        -c:v mpeg4 -c:s mov_text "$work/subs/in/phone.mp4" 2> "$work/log"
    out=$("$samples/batch-enhance.sh" "$work/subs/in" "$work/subs/out" "$model" "$ffmpeg" 2>&1)
    rc=$?
    codecs=$(ffp -show_entries stream=codec_type,codec_name -of csv=p=0 "$work/subs/out/phone.mkv" 2>&1 | tr '\n' ' ')
    text=$(ff -i "$work/subs/out/phone.mkv" -map 0:s -f srt - 2>/dev/null)
    [ $rc = 0 ] && echo "$codecs" | grep -q "subrip,subtitle" && echo "$text" | grep -q "Hello from mov_text" &&
        pass "batch-enhance.sh: mov_text subtitles kept, as SubRip ($codecs)" ||
        fail "batch-enhance.sh with mov_text subtitles (exit $rc; $codecs)" "$out"

    # Model paths with the filter syntax's special characters.
    odd="$work/m:o,d;e[l]'s \\dir"
    mkdir -p "$odd"
    cp "$model" "$odd/w4:a,b.dsfn"
    out=$("$samples/transcode-with-audio.sh" "$work/batch/in/b.mp4" "$work/odd.mp4" "$odd/w4:a,b.dsfn" "$ffmpeg" 2>&1)
    rc=$?
    [ $rc = 0 ] && [ "$(frames_of "$work/odd.mp4")" = 6 ] &&
        pass "transcode-with-audio.sh with a model path holding : , ; [ ] ' \\ and a space" ||
        fail "transcode-with-audio.sh with an odd model path (exit $rc)" "$out"
    out=$("$samples/batch-enhance.sh" "$work/subs/in" "$work/odd-out" "$odd/w4:a,b.dsfn" "$ffmpeg" 2>&1)
    rc=$?
    [ $rc = 0 ] && [ "$(frames_of "$work/odd-out/phone.mkv")" = 6 ] &&
        pass "batch-enhance.sh with a model path holding : , ; [ ] ' \\ and a space" ||
        fail "batch-enhance.sh with an odd model path (exit $rc)" "$out"
else
    skip "the sample scripts (batch-enhance.sh, transcode-with-audio.sh)"
fi

# --- Every ffmpeg command in the README runs and makes a file that plays everywhere -----
# Each code block that starts with an ffmpeg command (or a loop over one) runs in a
# folder of its own holding the inputs it names; each H.264 file it writes must be
# 4:2:0 (yuv420p), which every player decodes.
if [ $full_build = 1 ]; then
    readme="$top/README.md"
    mkdir -p "$work/readme"
    awk -v dir="$work/readme" '
        /^```/ { if (inside) { close(f); inside = 0 } else { inside = 1; n++; f = sprintf("%s/block%02d.sh", dir, n); first = 1 } next }
        inside { if (first) { keep = ($0 ~ /^(ffmpeg|for) /); first = 0 } if (keep) print > f }
    ' "$readme"
    ff -y -f lavfi -i "testsrc2=size=32x18:rate=10,trim=end_frame=4" -f lavfi -i "sine=duration=0.4" \
        -c:v libx264 -c:a aac -shortest "$work/in.mp4" 2> /dev/null
    ran=0
    for block in "$work"/readme/block*.sh; do
        [ -s "$block" ] || continue
        if grep -q 'device=cuda' "$block"; then
            echo "SKIP: README block $(basename "$block" .sh) needs a GPU: $(head -n 1 "$block")"
            continue
        fi
        d="$work/readme/run-$(basename "$block" .sh)"
        mkdir -p "$d/in" "$d/out"
        for name in in.mp4 in.mkv blurry_lowres_30fps.mp4 in/a.mp4; do cp "$work/in.mp4" "$d/$name"; done
        out=$(cd "$d" && PATH="$build/bin:$PATH" timeout $limit sh -e "$block" < /dev/null 2>&1)
        rc=$?
        bad= made=0
        for f in $(cd "$d" && find . -newer "$block" -type f \( -name '*.mp4' -o -name '*.mkv' \) ! -path './in*' ! -name 'blurry*'); do
            made=$((made + 1))
            v=$(ffp -select_streams v -show_entries stream=codec_name,pix_fmt -of csv=p=0 "$d/$f")
            case $v in h264,yuv420p|*,yuv420p) ;; *) bad="$bad $f:$v" ;; esac
        done
        ran=$((ran + 1))
        [ $rc = 0 ] && [ $made -gt 0 ] && [ -z "$bad" ] &&
            pass "README: $(head -n 1 "$block" | cut -c1-70)... ($made file(s), yuv420p)" ||
            fail "README block: $(head -n 1 "$block") (exit $rc, $made files;$bad)" "$out"
    done
    [ $ran -ge 4 ] && pass "README: $ran example blocks run" || fail "README: only $ran example blocks found"
    # The blocks not run here (a build or a GPU first) convert to yuv420p too, or
    # keep a GPU decoder's 4:2:0 frames (CUDA frames out of dsfn) for NVENC.
    lines=$(awk '/^```/ { inside = !inside; next }
                 inside && /^ *ffmpeg / && !/format=yuv420p/ && !/hwaccel_output_format cuda.*_nvenc/' "$readme")
    [ -z "$lines" ] && pass "README: every ffmpeg command line converts to yuv420p" ||
        fail "README: ffmpeg command lines without format=yuv420p" "$lines"
else
    skip "the README's example commands"
fi

# --- Settings that cannot help are clamped, with a warning -----------------------------
out=$(ff -v verbose -f lavfi -i "testsrc2=size=160x90:rate=10,trim=end_frame=2" \
    -vf "$dsfn:tile=16:overlap=1024:edge_mirror=64" -f null - 2>&1)
echo "$out" | grep -q "overlap=1024 is more than the 288 pixels of the picture's larger side (edge_mirror included); using 288" &&
    echo "$out" | grep -q "tile=16 is smaller than the 288 pixels of context each tile reads; running whole pictures" &&
    echo "$out" | grep -q "2 frames in, 4 frames out, .* 0 tiles" &&
    pass "tile=16:overlap=1024:edge_mirror=64 on 160x90: overlap clamped, whole pictures, warned" ||
    fail "tile=16:overlap=1024:edge_mirror=64 on 160x90" "$(echo "$out" | grep -i dsfn)"
out=$(ff -v verbose -f lavfi -i "testsrc2=size=96x72:rate=10,trim=end_frame=2" -vf "$dsfn:tile=16:overlap=24" -f null - 2>&1)
echo "$out" | grep -q "tile=16 is smaller than the 24 pixels of context each tile reads; using tiles of 24" &&
    echo "$out" | grep -q "96x72 pictures run in tiles of 24 pixels (overlap 24)" &&
    pass "tile=16:overlap=24: tiles grown to 24, warned" || fail "tile=16:overlap=24" "$(echo "$out" | grep -i dsfn)"
cores=$(nproc)
out=$(ff -v verbose -f lavfi -i "$src,trim=end_frame=2" -vf "dsfn=model=$model:threads=1024$dev" -f null - 2>&1)
echo "$out" | grep -q "threads=1024 is more than the $cores cores here; using $cores" && echo "$out" | grep -q "$cores threads," &&
    pass "threads=1024 on $cores cores: $cores threads, warned" || fail "threads=1024" "$(echo "$out" | grep -i dsfn)"
# No threads option: ffmpeg's -filter_threads, else all cores, without a warning.
out=$(ff -v verbose -filter_threads 1 -f lavfi -i "$src,trim=end_frame=2" -vf "dsfn=model=$model$dev" -f null - 2>&1)
out_all=$(ff -v verbose -f lavfi -i "$src,trim=end_frame=2" -vf "dsfn=model=$model$dev" -f null - 2>&1)
echo "$out" | grep -q ", 1 threads," && ! echo "$out" | grep -q ", $cores threads," && echo "$out_all" | grep -q ", $cores threads," && ! echo "$out_all" | grep -q "more than the" &&
    pass "no threads option: -filter_threads 1 gives 1 thread, no -filter_threads all $cores" ||
    fail "threads from -filter_threads" "$(echo "$out $out_all" | grep -i 'threads')"
expect_error "max_memory=0.001: sizes in MiB, not 0.00 GiB" "need about [0-9.]* MiB .*more than the 1.0 MiB allowed" \
    -f lavfi -i "$src,trim=end_frame=2" -vf "$dsfn:max_memory=0.001" $null_out

# --- dsfn-tool: never overwrites unasked, never over an input, clear usage --------------
tw="$work/tool"
mkdir -p "$tw"
"$tool" init "$tw/a.dsfn" --width 4 --seed 1 > /dev/null
sum=$(md5sum < "$tw/a.dsfn")
out=$("$tool" init "$tw/a.dsfn" --width 4 --seed 2 2>&1)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "a.dsfn exists: give --force to replace it" && [ "$(md5sum < "$tw/a.dsfn")" = "$sum" ] &&
    pass "dsfn-tool init refuses to replace a file" || fail "dsfn-tool init over a file (exit $rc)" "$out"
"$tool" init "$tw/a.dsfn" --width 4 --seed 2 --force > /dev/null && [ "$(md5sum < "$tw/a.dsfn")" != "$sum" ] &&
    pass "dsfn-tool init --force replaces it" || fail "dsfn-tool init --force"
"$tool" init "$tw/b.dsfn" --width 4 --seed 3 > /dev/null
sum=$(md5sum < "$tw/a.dsfn")
for args in "$tw/a.dsfn $tw/a.dsfn $tw/b.dsfn" "$tw/a.dsfn $tw/b.dsfn $tw/../tool/a.dsfn --force"; do
    out=$("$tool" average $args 2>&1)
    rc=$?
    [ $rc = 1 ] && echo "$out" | grep -q "is also an input" && [ "$(md5sum < "$tw/a.dsfn")" = "$sum" ] &&
        pass "dsfn-tool average never writes over an input ($(echo $args | wc -w) arguments)" ||
        fail "dsfn-tool average $args (exit $rc)" "$out"
done
out=$("$tool" widen "$tw/a.dsfn" "$tw/a.dsfn" --width 6 --force 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "is also an input" && [ "$(md5sum < "$tw/a.dsfn")" = "$sum" ] &&
    pass "dsfn-tool widen never writes over its input" || fail "dsfn-tool widen IN IN" "$out"
# The precisions a recipe vouches for (precision=auto) are true of its own weights only.
printf 'steps done: 5\n# precisions: evaluated\nprecisions: fp32 bf16\n' > "$tw/a.dsfn.recipe"
cp "$tw/a.dsfn.recipe" "$tw/b.dsfn.recipe"
"$tool" widen "$tw/a.dsfn" "$tw/wide.dsfn" --width 6 > /dev/null &&
    "$tool" average "$tw/mean.dsfn" "$tw/a.dsfn" "$tw/b.dsfn" > /dev/null &&
    grep -q '^steps done: 5' "$tw/wide.dsfn.recipe" && ! grep -q 'precisions' "$tw/wide.dsfn.recipe" &&
    grep -q '^steps done: 5' "$tw/mean.dsfn.recipe" && ! grep -q 'precisions' "$tw/mean.dsfn.recipe" &&
    pass "dsfn-tool widen, average: the new recipe vouches for no precision" ||
    fail "dsfn-tool widen, average drop the precisions line" "$(cat "$tw/wide.dsfn.recipe" "$tw/mean.dsfn.recipe" 2>&1)"
# profile: LibTorch's profiler over the engine's operations, by kind.
out=$("$tool" profile "$tw/a.dsfn" --size 24x16 --frames 1 2>&1)
echo "$out" | grep -q "^  convolutions" && echo "$out" | grep -q "^  deformable sampling" &&
    echo "$out" | grep -q "aten::mkldnn_convolution\|aten::_convolution" &&
    pass "dsfn-tool profile: convolutions and deformable sampling by name" || fail "dsfn-tool profile" "$out"
out=$("$tool" profile "$tw/a.dsfn" --precision fp64 2>&1)
[ $? = 2 ] && echo "$out" | grep -q "precision must be fp32, bf16, int8 or auto" &&
    pass "dsfn-tool profile --precision fp64: a usage error" || fail "dsfn-tool profile --precision fp64" "$out"
out=$("$tool" --help 2>/dev/null)
rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "^  cost \[FILE\]" && echo "$out" | grep -q "roofline" &&
    pass "dsfn-tool --help: exit 0, usage on stdout, cost documented" || fail "dsfn-tool --help (exit $rc)" "$out"
tool_error() { # name, expected message, arguments...
    name=$1 msg=$2
    shift 2
    out=$("$tool" "$@" 2>&1)
    rc=$?
    [ $rc = 2 ] && echo "$out" | grep -q -- "$msg" && pass "dsfn-tool: $name" || fail "dsfn-tool: $name (exit $rc)" "$out"
}
tool_error "extra argument" "init takes 1 file argument(s), not 2" init "$tw/c.dsfn" "$tw/d.dsfn"
tool_error "width out of range" "\-\-width must be a width of 1 to 1024 channels, not '0'" init "$tw/c.dsfn" --width 0
tool_error "bad size" "\-\-size must be WxH, each 1 to 16384 pixels, not '8'" cost --size 8
tool_error "an option of another command" "'--seed' is not an option of info" info "$tw/a.dsfn" --seed 2
tool_error "unknown command" "unknown command 'frobnicate'" frobnicate
[ ! -e "$tw/c.dsfn" ] && pass "dsfn-tool: refused commands write nothing" || fail "dsfn-tool: a refused command wrote c.dsfn"
out=$("$tool" cost --size 8x8 2>&1)
echo "$out" | grep -q "^a random network: width 16, levels 2" && echo "$out" | grep -q "size 8x8, threads $cores" &&
    pass "dsfn-tool cost without a file: says width 16, uses the $cores cores" || fail "dsfn-tool cost without a file" "$out"
[ "$(echo "$out" | grep -Ec '^roofline (fp32|bf16|int8): [0-9.e+-]+ s per input frame, [0-9.e+-]+ GFLOP/s$')" = 3 ] &&
    pass "dsfn-tool cost: a roofline for fp32, bf16 and int8" || fail "dsfn-tool cost: three rooflines" "$out"

# --- Model names with or without .dsfn ----------------------------------------------------
out=$(DSFN_MODEL_DIR=$work ff -v verbose -f lavfi -i "$src,trim=end_frame=2" -vf "dsfn=model=w4.dsfn$dev" -f null - 2>&1)
echo "$out" | grep -q "model $work/w4.dsfn: width 4" && pass "model=w4.dsfn found in DSFN_MODEL_DIR" ||
    fail "model=w4.dsfn in DSFN_MODEL_DIR" "$out"
expect_vf_error "unknown model: the message says how names are looked up" \
    "a name (with or without .dsfn) is looked up in DSFN_MODEL_DIR, then in the installed models" "dsfn=model=mine.dsfn"

# --- High bit depth: 10-bit stays deeper than 8 bits; 8-bit stays 8-bit ------------------
# A 10-bit ramp of 1024 grey levels; the zero-residual model's keyframes are its
# input, nearest-upscaled: more than 256 levels come out only if 16 bits go through.
ramp="nullsrc=size=256x4:rate=10,trim=end_frame=2,format=gray10le,geq=lum='X*4+Y'"
out=$(ffp -f lavfi -i "$ramp,dsfn=model=$zero$dev" -show_entries stream=pix_fmt -of csv=p=0)
levels=$(ff -f lavfi -i "$ramp,dsfn=model=$zero$dev" -frames:v 1 -f rawvideo - 2>/dev/null |
    od -An -v -tu2 -w2 | sort -u | wc -l)
[ "$out" = gbrp16le ] && [ "$levels" -gt 256 ] &&
    pass "10-bit input: gbrp16le out, $levels levels in a picture" || fail "10-bit input ($out, $levels levels)"
for fmt in yuv420p10le yuv422p10le; do
    out=$(ffp -f lavfi -i "$src,trim=end_frame=2,format=$fmt,$dsfn" -show_entries stream=pix_fmt -of csv=p=0)
    [ "$out" = gbrp16le ] && pass "$fmt input: 16-bit RGB through dsfn" || fail "$fmt input negotiates $out"
done
for fmt in yuv420p nv12 gbrp rgb24; do
    out=$(ffp -f lavfi -i "$src,trim=end_frame=2,format=$fmt,$dsfn" -show_entries stream=pix_fmt -of csv=p=0)
    case $out in gbrp|rgb24) pass "$fmt input stays 8-bit ($out)" ;; *) fail "$fmt input negotiates $out" ;; esac
done
# The output has the input's format even where the next filter asks for another:
# FFmpeg converts before or after dsfn, never dsfn itself (one list for both links).
for pair in "gbrp gbrp16le" "gbrp16le rgb24" "rgb24 gbrp"; do
    given=${pair% *} asked=${pair#* }
    line=$(ff -v verbose -f lavfi -i "$src,trim=end_frame=2,format=$given" -vf "$dsfn,format=$asked" -f null - 2>&1 |
        sed -n 's/.*Parsed_dsfn.* \([0-9]*x[0-9]* [a-z0-9]*\) -> \([0-9]*x[0-9]* [a-z0-9]*\), time base.*/\1 -> \2/p' |
        tail -n 1)
    in_fmt=$(echo "$line" | cut -d' ' -f2) out_fmt=$(echo "$line" | cut -d' ' -f5)
    [ -n "$in_fmt" ] && [ "$in_fmt" = "$out_fmt" ] &&
        pass "$given in, $asked asked for after: dsfn's output has its input's format ($line)" ||
        fail "$given in, $asked asked for after: dsfn's formats '$line'"
done
# gbrp to gbrp16 is exact (v * 257), so both paths see the same picture.
p=$(ff -f lavfi -i "testsrc2=size=36x28:rate=10,trim=end_frame=3" -filter_complex \
    "[0:v]format=gbrp,split[a][b];[a]format=gbrp16le,$dsfn,format=gbrp[x];[b]$dsfn[y];[x][y]psnr" -f null - 2>&1 | psnr_of)
awk -v p="$p" 'BEGIN { exit !(p == "inf" || p + 0 >= 45) }' &&
    pass "the same 8-bit picture through 16 bits: the same output within rounding (PSNR $p)" ||
    fail "16-bit path against 8-bit (PSNR '$p')"
if has encoders prores_ks && has decoders prores; then
    ff -y -f lavfi -i "$src,trim=end_frame=3" -c:v prores_ks -profile:v 2 -pix_fmt yuv422p10le "$work/pr.mov" 2> /dev/null
    ff -y -i "$work/pr.mov" -vf "$dsfn,format=yuv422p10le" -c:v prores_ks -profile:v 2 "$work/pr-out.mov" 2> "$work/log"
    out=$(ffp -show_entries stream=pix_fmt,width -of csv=p=0 "$work/pr-out.mov")
    [ "$out" = "128,yuv422p10le" ] && pass "ProRes 4:2:2 10-bit in, ProRes 4:2:2 10-bit out" ||
        fail "ProRes 10-bit round trip ($out)" "$(cat "$work/log")"
fi

# --- The in-between frame at a cut and at the end repeats the last keyframe exactly ------
outputs_vs() { # source graph, output index a, output index b -> PSNR of dsfn's outputs a and b
    ff -f lavfi -i "$1" -filter_complex \
        "[0:v]$dsfn,split[x][y];[x]select='eq(n\,$2)',setpts=N/TB[a];[y]select='eq(n\,$3)',setpts=N/TB[b];[a][b]psnr" \
        -f null - 2>&1 | psnr_of
}
p_cut=$(outputs_vs "$two_scenes[out0]" 9 8)
p_end=$(outputs_vs "$src,trim=end_frame=3,format=gbrp" 5 4)
p_mid=$(outputs_vs "$src,trim=end_frame=3,format=gbrp" 3 2)
[ "$p_cut" = inf ] && [ "$p_end" = inf ] && [ -n "$p_mid" ] && [ "$p_mid" != inf ] &&
    pass "in-between at a cut and at the end: the last keyframe exactly; elsewhere not ($p_mid dB)" ||
    fail "in-between at a cut ($p_cut), at the end ($p_end), elsewhere ($p_mid)"

# --- An installed ffmpeg finds its shipped models wherever the prefix is ---------------
# Staged under DESTDIR for one prefix, then run from there: from another folder, with
# no DSFN_MODEL_DIR, it must take dsfn-w16 from its own prefix, and the binary must
# not name the source tree's weights.
stage=$work/stage
rel=${build#"$top"/}
if [ "$rel" != "$build" ] && make -s -C "$top" install-files BUILD="$rel" PREFIX=/opt/vf-dsfn DESTDIR="$stage" > "$work/install.log" 2>&1; then
    out=$(cd "$work" && env -u DSFN_MODEL_DIR timeout $limit "$stage/opt/vf-dsfn/bin/ffmpeg" -nostdin -hide_banner -v verbose \
        -f lavfi -i "$src,trim=end_frame=2" -vf "dsfn=device=$device" -f null - 2>&1)
    echo "$out" | grep -q "model $stage/opt/vf-dsfn/share/vf_dsfn/models/dsfn-w16.dsfn: width 16" &&
        echo "$out" | grep -q '2 frames in, 4 frames out' && ! grep -qF "$top/model/weights" "$stage/opt/vf-dsfn/bin/ffmpeg" &&
        pass "installed ffmpeg (DESTDIR staging, another prefix, another folder): the default model from its own prefix" ||
        fail "installed ffmpeg finds its models" "$out"
else
    fail "make install-files into a staging folder" "$(cat "$work/install.log" 2>/dev/null)"
fi

# --- The FFmpeg release: the one configured, and clear errors for any other ----------
# make passes the release it built (config.mk, or check-asan's own) in DSFN_E2E_FFMPEG_VERSION.
want=${DSFN_E2E_FFMPEG_VERSION:-}
have=$(ff -version 2>&1 | sed -n '1s/^ffmpeg version n\{0,1\}\([0-9]*\.[0-9]*\).*/\1/p')
if [ -n "$want" ]; then
    [ "$have" = "$want" ] && pass "this ffmpeg is FFmpeg $want, the release it was configured for" ||
        fail "this ffmpeg is FFmpeg '$have', configured for $want" "$(ff -version 2>&1 | head -n 1)"
fi
supported=$(ls -d "$top"/patches/ffmpeg*/ | sed 's|.*/ffmpeg\([^/]*\)/$|\1|' | sort -V | tr '\n' ' ' | sed 's/ $//')
fake_tree() { # folder, RELEASE text, libavfilter major -> the files configure reads
    mkdir -p "$1/libavfilter" && : > "$1/configure" && : > "$1/libavfilter/allfilters.c" &&
        echo "$2" > "$1/RELEASE" && echo "#define LIBAVFILTER_VERSION_MAJOR  $3" > "$1/libavfilter/version_major.h"
}
fake_tree "$work/ff61" 6.1.2 9
fake_tree "$work/ffgit" git 11
mkdir -p "$work/conf"
configure_case() { # name, expected message, configure options...
    name=$1 msg=$2; shift 2
    out=$(cd "$work/conf" && rm -f config.mk && "$top/configure" --cache-dir="$work/cache" "$@" 2>&1)
    rc=$?
    if [ -z "$msg" ]; then
        [ $rc = 0 ] && pass "configure $name" || fail "configure $name" "$out"
    else
        [ $rc != 0 ] && echo "$out" | grep -qF -e "$msg" && [ ! -f "$work/conf/config.mk" ] &&
            pass "configure $name: \"$msg\"" || fail "configure $name (rc $rc)" "$out"
    fi
}
configure_case "--ffmpeg-version=6.1" "FFmpeg '6.1' is not supported; supported releases: $supported" --ffmpeg-version=6.1
configure_case "--ffmpeg-version=latest" "supported releases: $supported" --ffmpeg-version=latest
configure_case "--ffmpeg-source=(not FFmpeg)" "is not an FFmpeg source tree" --ffmpeg-source="$work/conf"
configure_case "--ffmpeg-source=(missing folder)" "is not an FFmpeg source tree" --ffmpeg-source="$work/none"
configure_case "--ffmpeg-source=(FFmpeg 6.1)" "is FFmpeg 6.1; supported releases: $supported" --ffmpeg-source="$work/ff61"
configure_case "--ffmpeg-source=(8.x git tree) --ffmpeg-version=9.0" "--ffmpeg-version=9.0, but the tree" \
    --ffmpeg-source="$work/ffgit" --ffmpeg-version=9.0
# The LibTorch this tree was configured with: configure checks one.
torch=$(sed -n 's/^LIBTORCH_DIR = //p' "$top/config.mk" 2>/dev/null)
configure_case "--ffmpeg-source=(8.x git tree): reads the release from libavfilter" "" --ffmpeg-source="$work/ffgit" \
    ${torch:+--with-libtorch="$torch"}
grep -q '^FFMPEG_VERSION = 8.1$' "$work/conf/config.mk" && pass "configure: a git tree of libavfilter 11 is FFmpeg 8.1" ||
    fail "configure: a git tree of libavfilter 11 is FFmpeg 8.1" "$(cat "$work/conf/config.mk" 2>/dev/null)"
