// How a segment's pictures are cut into tiles so that a pass fits the memory
// budget, and the tiles themselves.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/memory_model.h"

namespace dsfn {

// The caller's options and what the passes of a segment will see.
struct TileRequest {
    int64_t picture_h = 0, picture_w = 0; // the caller's pictures
    int64_t edge = 0;                     // mirrored edge added on each side (edge_mirror)
    int64_t tile = 0;                     // the tile option: 0, automatic
    int64_t overlap = 0;                  // the overlap option: context read around each tile
    double budget = 0;                    // bytes for the state and one pass; <= 0: unknown
    bool on_gpu = false;                  // with budget <= 0 (free memory unknown): tiles only when asked
};

struct TilePlan {
    int64_t tile = 0;    // side of the tiles; 0: whole pictures
    int64_t overlap = 0; // context around each tile: the option, at most the picture's larger side
    bool grown = false;  // the tile option was smaller than its context and grew to it
};

// The whole picture when a pass over it fits the budget (or the caller's tile
// covers it), else the largest square tile whose pass, with its overlap, fits what
// the full-size state leaves. Throws EngineError (ENOMEM) when nothing fits.
TilePlan plan_tiles(const TileRequest &request, const MemoryModel &memory);

// The peak bytes of a segment planned so: the state and the largest pass.
double planned_bytes(const TileRequest &request, const TilePlan &plan, const MemoryModel &memory);

// One tile: the part of the picture it outputs ([y0, y1) x [x0, x1)) and the
// larger part it reads, with `overlap` pixels of context where the picture has them.
struct Tile {
    int64_t y0, y1, x0, x1;
    int64_t ry0, ry1, rx0, rx1;
};

// Tiles of at most `tile` x `tile` output pixels covering h x w evenly.
std::vector<Tile> make_tiles(int64_t h, int64_t w, int64_t tile, int64_t overlap);

} // namespace dsfn
