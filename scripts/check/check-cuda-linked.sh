#!/bin/sh
# An ffmpeg built against a CUDA LibTorch must need libtorch_cuda and c10_cuda:
# the linker's --as-needed would drop them, and CUDA would then report itself
# unavailable.
#   check-cuda-linked.sh FFMPEG
set -eu
for lib in libtorch_cuda.so libc10_cuda.so; do
    readelf -d "$1" | grep -q "NEEDED.*\[$lib\]" || { echo "check-cuda-linked: $1 does not need $lib" >&2; exit 1; }
done
echo "$1 needs libtorch_cuda.so and libc10_cuda.so"
