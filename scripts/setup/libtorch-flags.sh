#!/bin/sh
# The make variables that build against a LibTorch: Debian's libtorch-dev with
# no argument, else the LibTorch in DIR (an official build, or the torch wheel's
# directory from scripts/setup/fetch-libtorch.sh). Used by ./configure (config.mk) and
# by make check-libtorch2.
#   libtorch-flags.sh [DIR]
set -eu
die() { echo "libtorch-flags: $*" >&2; exit 1; }
libtorch=${1:-}
torch_has_cuda=0
if [ -n "$libtorch" ]; then
    [ -d "$libtorch" ] || die "no directory '$libtorch'"
    libtorch=$(cd "$libtorch" && pwd)
    [ -f "$libtorch/include/torch/csrc/api/include/torch/torch.h" ] ||
        die "'$libtorch' has no include/torch/csrc/api/include/torch/torch.h"
    [ -f "$libtorch/lib/libtorch_cpu.so" ] || die "'$libtorch' has no lib/libtorch_cpu.so"
    abi=$(grep -ho '_GLIBCXX_USE_CXX11_ABI=[01]' "$libtorch/share/cmake/Torch/TorchConfig.cmake" 2>/dev/null | head -n 1 || true)
    torch_cxxflags="-isystem $libtorch/include -isystem $libtorch/include/torch/csrc/api/include${abi:+ -D$abi}"
    torch_ldflags="-L$libtorch/lib -Wl,-rpath,$libtorch/lib"
    torch_libs="-ltorch -ltorch_cpu -lc10"
    if [ -f "$libtorch/lib/libtorch_cuda.so" ]; then
        torch_has_cuda=1
        # --as-needed would drop these (nothing references them directly) and
        # CUDA would then silently report itself unavailable.
        torch_libs="-Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed $torch_libs"
    fi
else
    inc=/usr/include/torch/csrc/api/include
    [ -f "$inc/torch/torch.h" ] || die "LibTorch not found: install Debian's libtorch-dev or give a LibTorch directory"
    torch_cxxflags="-isystem $inc"
    torch_ldflags=
    torch_libs="-ltorch -ltorch_cpu -lc10"
    # Debian's LibTorch computes with the system's oneDNN (libdnnl.so.2). With its
    # headers (libdnnl-dev), the int8 convolutions call that same library directly
    # (model/int8/onednn_conv.h). Other LibTorch builds carry a oneDNN of their
    # own, which a second copy in the process could clash with: they use
    # LibTorch's quantized engine instead.
    torch_cpu=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/libtorch_cpu.so
    if [ -f /usr/include/oneapi/dnnl/dnnl.hpp ] && ldd "$torch_cpu" 2>/dev/null | grep -q 'libdnnl\.so\.2 '; then
        torch_cxxflags="$torch_cxxflags -DDSFN_WITH_ONEDNN"
        torch_libs="$torch_libs -ldnnl"
    fi
fi
cat <<VARS
LIBTORCH_DIR = $libtorch
TORCH_CXXFLAGS = $torch_cxxflags
TORCH_LDFLAGS = $torch_ldflags
TORCH_LIBS = $torch_libs
TORCH_HAS_CUDA = $torch_has_cuda
VARS
