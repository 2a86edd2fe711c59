#!/bin/sh
# Install a pinned torch wheel from PyPI (the version the lent GPU machines hold),
# with the CUDA runtime wheels it needs (cuBLAS, cuDNN, ...), into a virtual
# environment in the cache, and print the LibTorch directory inside it (include/,
# lib/ with libtorch_cuda.so, share/cmake) for ./configure --with-libtorch=DIR.
# The system Python is not touched.
# With --python it prints the environment's python3 instead.
#   scripts/setup/fetch-libtorch.sh [CACHE_DIR] [--python]
set -eu
version=2.11.0
cache=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/vf_dsfn}
print=${2:-}
venv=$cache/libtorch-$version
if [ ! -f "$venv/.installed" ]; then
    rm -rf "$venv"
    mkdir -p "$cache"
    python3 -m venv "$venv" >&2 || {
        echo "fetch-libtorch: python3 cannot make a virtual environment (Debian: apt-get install python3-venv)" >&2
        exit 1
    }
    echo "fetch-libtorch: installing torch $version and its CUDA wheels into $venv (about 4 GB)" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir "torch==$version" >&2
    touch "$venv/.installed"
fi
dir=$(ls -d "$venv"/lib/python3*/site-packages/torch | head -n 1)
[ -f "$dir/lib/libtorch_cuda.so" ] || { echo "fetch-libtorch: $dir has no lib/libtorch_cuda.so" >&2; exit 1; }
if [ "$print" = --python ]; then echo "$venv/bin/python3"; else echo "$dir"; fi
