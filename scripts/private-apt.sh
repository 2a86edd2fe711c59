#!/bin/sh
# Sourced by scripts that fetch Debian packages of another suite (FFmpeg's
# source package, LibTorch 2.x headers) without touching the system's apt setup.
#
#   private_apt_setup DIR SUITE TYPE     TYPE: deb or deb-src
#
# Sets $aptopts: apt-get/apt-cache options using DIR for sources, lists and cache.
# The sources are derived from the mirrors the system already uses, so no mirror
# is named in the repository.
private_apt_setup() {
    pa_dir=$1 pa_suite=$2 pa_type=$3
    mkdir -p "$pa_dir/lists/partial" "$pa_dir/archives/partial"
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
