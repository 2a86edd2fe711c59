// Mirrored picture edges: the network pads its convolutions with zeros, which
// costs the pixels next to dark edge rows most (eval/REPORT.md, 2026-12-02
// (second)). Growing the input by a mirror image of its edges, and cropping the
// output back, gives those convolutions picture to read instead.
#ifndef DSFN_MIRROR_EDGES_H
#define DSFN_MIRROR_EDGES_H

#include <torch/torch.h>

namespace dsfn {

// x [N, C, H, W] grown by `pixels` on each side, half-sample symmetric (the edge
// pixel repeated, as FFmpeg's fillborders=mode=mirror), for any H, W >= 1.
torch::Tensor mirror_edges(const torch::Tensor &x, int64_t pixels);

} // namespace dsfn

#endif
