#include "engine/tile_plan.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <string>

#include "engine/engine_config.h"
#include "engine/engine_error.h"

namespace dsfn {

TilePlan plan_tiles(const TileRequest &r, const MemoryModel &memory)
{
    const int64_t h = r.picture_h + 2 * r.edge, w = r.picture_w + 2 * r.edge; // what the passes see
    TilePlan plan;
    // Context beyond the picture's far side is never there to read: the same
    // pictures with less. A tile narrower than its context computes mostly
    // context, each pass over again: grow it to the context where memory allows.
    plan.overlap = std::min(r.overlap, std::max(h, w));
    const int64_t overlap = plan.overlap;
    std::string size = std::to_string(r.picture_w) + "x" + std::to_string(r.picture_h);
    if (r.edge > 0)
        size +=
            " (" + std::to_string(w) + "x" + std::to_string(h) + " with edge_mirror=" + std::to_string(r.edge) + ")";
    const double state = memory.state_bytes(h, w);
    auto pass_of = [&](int64_t pass_h, int64_t pass_w) { return memory.pass_bytes(pass_h, pass_w); };
    auto pass_fits = [&](int64_t side) {
        return pass_of(std::min(h, side + 2 * overlap), std::min(w, side + 2 * overlap)) + state <= r.budget;
    };
    if (r.on_gpu && r.budget <= 0) { // device memory unknown: tile only when asked
        plan.tile = r.tile;
        return plan;
    }
    if (r.tile > 0) {
        int64_t side = r.tile;
        if (side < overlap && pass_fits(overlap)) {
            side = overlap;
            plan.grown = true;
        }
        plan.tile = side >= std::max(h, w) ? 0 : side;
        if (!pass_fits(plan.tile ? plan.tile : std::max(h, w)))
            throw EngineError(
                ENOMEM, size + " pictures in tiles of " + std::to_string(r.tile) + " need about " +
                            readable_size(
                                pass_of(std::min(h, r.tile + 2 * overlap), std::min(w, r.tile + 2 * overlap)) + state) +
                            ", more than the " + readable_size(r.budget) +
                            " allowed: use smaller tiles (or tile=0), or raise max_memory");
        return plan;
    }
    if (pass_of(h, w) + state <= r.budget)
        return plan;
    const double left = r.budget - state;
    const int64_t side = left > 0 ? static_cast<int64_t>(std::sqrt(left / pass_of(1, 1))) - 2 * overlap : 0;
    if (side < kMinTile || !pass_fits(side))
        throw EngineError(ENOMEM, size + " pictures need about " +
                                      readable_size(pass_of(kMinTile + 2 * overlap, kMinTile + 2 * overlap) + state) +
                                      " even in the smallest tiles, more than the " + readable_size(r.budget) +
                                      " allowed: scale the input down before dsfn, or raise max_memory");
    plan.tile = side;
    return plan;
}

double planned_bytes(const TileRequest &r, const TilePlan &plan, const MemoryModel &memory)
{
    const int64_t h = r.picture_h + 2 * r.edge, w = r.picture_w + 2 * r.edge;
    const int64_t pass_h = plan.tile ? std::min(h, plan.tile + 2 * plan.overlap) : h;
    const int64_t pass_w = plan.tile ? std::min(w, plan.tile + 2 * plan.overlap) : w;
    return memory.pass_bytes(pass_h, pass_w) + memory.state_bytes(h, w);
}

std::vector<Tile> make_tiles(int64_t h, int64_t w, int64_t tile, int64_t overlap)
{
    const int64_t ny = (h + tile - 1) / tile, nx = (w + tile - 1) / tile;
    std::vector<Tile> tiles;
    for (int64_t i = 0; i < ny; i++)
        for (int64_t j = 0; j < nx; j++) {
            Tile t;
            t.y0 = i * h / ny, t.y1 = (i + 1) * h / ny;
            t.x0 = j * w / nx, t.x1 = (j + 1) * w / nx;
            t.ry0 = std::max<int64_t>(0, t.y0 - overlap), t.ry1 = std::min(h, t.y1 + overlap);
            t.rx0 = std::max<int64_t>(0, t.x0 - overlap), t.rx1 = std::min(w, t.x1 + overlap);
            tiles.push_back(t);
        }
    return tiles;
}

} // namespace dsfn
