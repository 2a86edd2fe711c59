#!/bin/sh
# Fetch the training photos (real photographs shipped in Debian packages, see
# shared/DATA.md) into a cache and convert them to 8-bit PPM for dsfn-train.
#   fetch-training-photos.sh CACHE_DIR FFMPEG
# Photos are scaled to at most 1920 pixels wide, which also hides JPEG artefacts.
set -eu
cache=$1 ffmpeg=$2
top=$(cd "$(dirname "$0")/.." && pwd)
out=$cache/photos
mkdir -p "$out"
. "$top/scripts/private-apt.sh"

# package | files (photographs only: drawings and renders are left out)
list='
mate-backgrounds|usr/share/backgrounds/mate/nature/*.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg usr/share/wallpapers/Grey/contents/images/2560x1600.jpg usr/share/wallpapers/Kite/contents/images/2560x1600.jpg usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg usr/share/wallpapers/Path/contents/images/2560x1600.jpg usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg
lifeograph|usr/share/net.sourceforge.Lifeograph/backgrounds/*.jpg
'
echo "$list" | while IFS='|' read -r pkg files; do
    [ -n "$pkg" ] || continue
    tree=$(package_tree "$cache" "$pkg")
    for f in $(cd "$tree" && eval ls $files); do
        name=$(echo "$pkg-$f" | sed 's|usr/share/||; s|[/ ]|_|g; s|\.[a-zA-Z]*$||')
        [ -f "$out/$name.ppm" ] && continue
        "$ffmpeg" -nostdin -hide_banner -loglevel error -y -i "$tree/$f" \
            -vf "scale='min(1920,iw)':-2:flags=lanczos,format=rgb24" -frames:v 1 "$out/$name.ppm"
    done
done
echo "$(ls "$out"/*.ppm | wc -l) photos in $out"
