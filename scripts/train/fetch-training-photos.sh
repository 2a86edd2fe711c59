#!/bin/sh
# Fetch the training photos (real photographs shipped in Debian packages, see
# docs/DATA.md) into a cache and convert them to 8-bit PPM for dsfn-train.
#   fetch-training-photos.sh [--copy-sources-to DIR | --sources-from DIR] CACHE_DIR FFMPEG [more]
# --copy-sources-to copies the original files, as the packages hold them, under
# DIR/PACKAGE/PATH and converts nothing (FFMPEG is not run); --sources-from reads
# them from such a folder instead of the packages: the accelerator run's data
# (scripts/accelerator/accelerator-pack.sh) goes through the same conversion as here.
# Photos are scaled to at most 1920 pixels wide, which also hides JPEG artefacts.
# The shipped weights were trained on the first list (31 photos). "more" adds 25
# from lomiri-wallpapers and lxqt-themes: they did not change the evaluation in a
# 2,500-step test (eval/REPORT.md, 2026-12-02), so they stay out of `make train`.
# dsfn-train reads every photo in the folder: fetch "more" into a cache of its own.
set -eu
copy_to= from=
case ${1:-} in
--copy-sources-to) copy_to=$2; shift 2 ;;
--sources-from) from=$2; shift 2 ;;
esac
cache=$1 ffmpeg=$2 set=${3:-}
case $set in
'' | more) ;;
*) echo "fetch-training-photos.sh: unknown photo set '$set' (only 'more')" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$cache/photos
mkdir -p "$out"
[ -n "$from" ] || . "$top/scripts/setup/private-apt.sh"

# package | files (photographs only: drawings and renders are left out)
list='
mate-backgrounds|usr/share/backgrounds/mate/nature/*.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg usr/share/wallpapers/Grey/contents/images/2560x1600.jpg usr/share/wallpapers/Kite/contents/images/2560x1600.jpg usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg usr/share/wallpapers/Path/contents/images/2560x1600.jpg usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg
lifeograph|usr/share/net.sourceforge.Lifeograph/backgrounds/*.jpg
'
more='
lomiri-wallpapers-16.04|usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg usr/share/backgrounds/Dragonfly_by_Bolly.jpg usr/share/backgrounds/Picture_0B_by_freespace.jpg usr/share/backgrounds/Picture_1A_by_freespace.jpg usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg usr/share/backgrounds/analogpattern_by_Peter_Nerlich.jpg usr/share/backgrounds/free_by_Peter_Nerlich.jpg usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg
lomiri-wallpapers-20.04|usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg
lxqt-themes|usr/share/lxqt/wallpapers/Valendas.png usr/share/lxqt/wallpapers/after-the-rain.jpg usr/share/lxqt/wallpapers/appleflower.png usr/share/lxqt/wallpapers/beam.png usr/share/lxqt/wallpapers/butterfly.png usr/share/lxqt/wallpapers/cloud.png usr/share/lxqt/wallpapers/drop.png usr/share/lxqt/wallpapers/flowers.png usr/share/lxqt/wallpapers/fog.jpg usr/share/lxqt/wallpapers/this-is-not-windows.jpg
'
[ "$set" = more ] && list="$list$more"
echo "$list" | while IFS='|' read -r pkg files; do
    [ -n "$pkg" ] || continue
    if [ -n "$from" ]; then tree=$from/$pkg; else tree=$(package_tree "$cache" "$pkg"); fi
    for f in $(cd "$tree" && eval ls $files); do
        if [ -n "$copy_to" ]; then
            mkdir -p "$copy_to/$pkg/$(dirname "$f")"
            cp "$tree/$f" "$copy_to/$pkg/$f"
            continue
        fi
        name=$(echo "$pkg-$f" | sed 's|usr/share/||; s|[/ ]|_|g; s|\.[a-zA-Z]*$||')
        [ -f "$out/$name.ppm" ] && continue
        "$ffmpeg" -nostdin -hide_banner -loglevel error -y -i "$tree/$f" \
            -vf "scale='min(1920,iw)':-2:flags=lanczos,format=rgb24" -frames:v 1 "$out/$name.ppm"
    done
done
if [ -n "$copy_to" ]; then
    echo "$(find "$copy_to" -type f | wc -l) photos copied to $copy_to"
else
    echo "$(ls "$out"/*.ppm | wc -l) photos in $out"
fi
