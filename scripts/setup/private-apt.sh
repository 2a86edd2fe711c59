#!/bin/sh
# Sourced by scripts that fetch Debian packages: of another suite (FFmpeg's
# source package, LibTorch 2.x headers, bookworm sources holding clips) without
# touching the system's apt setup, and the system suite's own binary packages.
#
#   private_apt_setup DIR SUITE TYPE     TYPE: deb or deb-src
#       Sets $aptopts: apt-get/apt-cache options using DIR for sources, lists and
#       cache. The sources are derived from the mirrors the system already uses,
#       so no mirror is named in the repository.
#   package_tree CACHE PKG
#       Prints CACHE/root/PKG: the files of PKG's .deb (the system's suite),
#       downloaded once into CACHE/debs and unpacked once.
#   bookworm_source CACHE PKG
#       Prints the upstream tarball of PKG's bookworm source package, downloaded
#       once into CACHE/src.
private_apt_setup() {
    pa_dir=$1 pa_suite=$2 pa_type=$3
    mkdir -p "$pa_dir/lists/partial" "$pa_dir/archives/partial"
    # One script at a time in DIR (CI fetches in the background while make check
    # fetches too): the lock is held until the calling script exits.
    if command -v flock > /dev/null; then
        exec 9> "$pa_dir/.lock"
        flock 9
    fi
    pa_uris=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p';
                 cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                     sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p'; } |
               tr ' ' '\n' | grep -E '/debian/?$' | sort -u)
    if [ -z "$pa_uris" ]; then
        echo "private-apt: no Debian mirror found in the system's apt sources" >&2
        return 1
    fi
    : > "$pa_dir/sources.list"
    for u in $pa_uris; do
        echo "$pa_type [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $u $pa_suite main" >> "$pa_dir/sources.list"
    done
    aptopts="-o Dir::Etc::SourceList=$pa_dir/sources.list -o Dir::Etc::SourceParts=/dev/null
             -o Dir::State=$pa_dir -o Dir::State::Lists=$pa_dir/lists
             -o Dir::Cache=$pa_dir -o Dir::Cache::Archives=$pa_dir/archives
             -o Dir::State::status=/var/lib/dpkg/status -o APT::Sandbox::User=root"
}

package_tree() {
    pt_cache=$1 pt_pkg=$2
    mkdir -p "$pt_cache/debs" "$pt_cache/root"
    if [ -z "$(ls "$pt_cache/debs/${pt_pkg}"_*.deb 2>/dev/null)" ]; then
        (cd "$pt_cache/debs" && apt-get download "$pt_pkg" >&2) || return 1
    fi
    if [ ! -d "$pt_cache/root/$pt_pkg" ]; then
        # Unpack beside, then rename: an interrupted unpack is never taken for a whole one.
        rm -rf "$pt_cache/root/$pt_pkg.new"
        dpkg-deb -x "$(ls "$pt_cache/debs/${pt_pkg}"_*.deb | head -n 1)" "$pt_cache/root/$pt_pkg.new" &&
            mv "$pt_cache/root/$pt_pkg.new" "$pt_cache/root/$pt_pkg" || return 1
    fi
    echo "$pt_cache/root/$pt_pkg"
}

bookworm_source() {
    bs_cache=$1 bs_pkg=$2
    mkdir -p "$bs_cache/src"
    if [ -z "$(ls "$bs_cache/src/${bs_pkg}"_*.orig.tar.* 2>/dev/null)" ]; then
        private_apt_setup "$bs_cache/apt-bookworm-src" bookworm deb-src || return 1
        # shellcheck disable=SC2086
        apt-get $aptopts -q update >&2 || return 1
        # shellcheck disable=SC2086
        (cd "$bs_cache/src" && apt-get $aptopts -o APT::Get::Only-Source=true -q source --download-only "$bs_pkg" >&2) ||
            return 1
    fi
    ls "$bs_cache/src/${bs_pkg}"_*.orig.tar.* | head -n 1
}
