# Sourced by the sample scripts: filter_value VALUE prints VALUE escaped for an
# option inside an FFmpeg filtergraph (-vf, -filter_complex), so that file names
# with ':', ',', quotes, brackets or backslashes reach the filter as they are.
# Two levels, as FFmpeg's filters manual ("Notes on filtergraph escaping")
# describes: quoted for the filter's option list ('...', each ' as '\''), then
# each of \ ' [ ] , ; backslash-escaped for the graph.
filter_value() {
    printf '%s' "$1" | sed "s/'/'\\\\''/g; s/^/'/; s/\$/'/" | sed "s/[][\\\\',;]/\\\\&/g"
}
