# Sourced by scripts/eval/eval.sh and scripts/eval/eval-frames-alone.sh; needs $ffmpeg.
# score A.mkv B.mkv N DIR: per-frame PSNR / SSIM (8-bit RGB) of the first N frames
# of two streams, both renumbered first (setpts=N/TB: Matroska's millisecond
# timestamps would make the framesync pair the wrong frames), averaged over even
# frames (keyframes), odd frames (in-between) and all; prints "key_psnr key_ssim
# mid_psnr mid_ssim all_psnr all_ssim". The stats files go to DIR. An optional
# fifth argument, a crop (w:h:x:y), scores that part of both pictures only.
score() {
    sc_crop=${5:+,crop=$5}
    $ffmpeg -i "$1" -i "$2" -lavfi "[0:v]setpts=N/TB,format=gbrp,trim=end_frame=$3$sc_crop,split[a1][a2];[1:v]setpts=N/TB,format=gbrp,trim=end_frame=$3$sc_crop,split[b1][b2];[a1][b1]psnr=stats_file=$4/psnr.log;[a2][b2]ssim=stats_file=$4/ssim.log" -f null -
    paste -d' ' "$4/psnr.log" "$4/ssim.log" | awk '
        { for (i = 1; i <= NF; i++) { split($i, kv, ":"); v[kv[1]] = kv[2] }
          n = v["n"] - 1; p = v["psnr_avg"]; s = v["All"]; if (p == "inf") p = 100
          g = n % 2; ps[g] += p; ss[g] += s; c[g]++ }
        function mean(sum, count) { return count ? sum / count : 0 }
        END { printf "%.3f %.4f %.3f %.4f %.3f %.4f\n", mean(ps[0], c[0]), mean(ss[0], c[0]), mean(ps[1], c[1]),
                     mean(ss[1], c[1]), mean(ps[0] + ps[1], c[0] + c[1]), mean(ss[0] + ss[1], c[0] + c[1]) }'
}
