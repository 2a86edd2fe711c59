// The engine behind the C API's handle: it loads the network, keeps the
// pictures and level-1 results the frame window needs, and schedules the passes,
// one DSFN1 pass per triple and one DSFN2 pass per window (dsfn/window.h), whole
// or tile by tile. Methods throw; c_api.cpp turns that into error codes.
#pragma once

#include <torch/torch.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "dsfn/engine.h"
#include "dsfn/window.h"
#include "engine/core_share.h"
#include "engine/device_stream.h"
#include "engine/flip_ensemble.h"
#include "engine/memory_model.h"
#include "memory/memory_policy.h"
#include "net/dsfn_net.h"

struct DSFNEngine {
    explicit DSFNEngine(const DSFNEngineConfig &config);

    void send(const DSFNImage &image);
    void end_segment() { window.ended = 1; }
    bool output_ready();
    void receive(DSFNImage &image, DSFNOutputInfo &info);
    double picture_difference(const DSFNImage &a, const DSFNImage &b) const;
    DSFNEngineStats current_stats() const;

    int scale() const { return static_cast<int>(net->architecture().scale); }
    int width() const { return static_cast<int>(net->architecture().width); }
    int precision() const { return precision_; }
    const std::string &precision_reason() const { return precision_reason_; }

    // First, so that it is given up last, after every tensor below: the process's
    // allocator settings while this engine lives (memory_policy.h).
    dsfn::MemoryPolicy memory_policy;
    dsfn::DeviceStream place; // the device, and on a GPU this engine's own stream
    std::string error;        // the last error's message (c_api.cpp)

private:
    struct Output {
        torch::Tensor map; // [1, r^2 C, H, W]
        DSFNOutputInfo info;
    };

    void use_threads();
    void start_segment(int64_t picture_h, int64_t picture_w);
    bool run_step();
    dsfn::Maps3 run_tiled(const std::vector<torch::Tensor> &inputs, bool packed_inputs, const dsfn::Pass &pass);
    void run_level1(const DSFNStep &step);
    void run_level2(const DSFNStep &step);
    void release_unneeded();

    torch::Device device;
    bool with_between;
    int threads = 0;
    dsfn::CoreShare core_share{1, false};
    double memory_budget = 0;
    int64_t tile_option = 0, overlap_option = 0;
    int64_t tile = 0;    // side of the tiles of the current segment; 0: whole pictures
    int64_t overlap = 0; // context around each tile in the current segment
    bool tile_grown = false;
    int ensemble = 1; // copies of each pass averaged (flip_ensemble.h)
    int64_t edge = 0; // pixels of mirror image around each input picture (mirror_edges.h)
    dsfn::Network net{nullptr};
    int precision_ = DSFN_PRECISION_FP32;      // what net computes in (auto resolved)
    std::string precision_reason_;             // why auto chose it; "" when it was given
    std::unique_ptr<dsfn::MemoryModel> memory; // of the loaded network, in its precision

    DSFNWindow window;
    int64_t segment_start = 0;        // stream index of the segment's first frame
    int picture_w = 0, picture_h = 0; // picture size of the current segment
    std::deque<torch::Tensor> frames; // input frames from index frames_base on
    int64_t frames_base = 0;
    std::deque<dsfn::Level1Maps> triples; // level-1 results from index triples_base on
    int64_t triples_base = 0;
    torch::Tensor pending_keyframe; // window k's estimate of keyframe k+1
    std::deque<Output> outputs;

    DSFNEngineStats stats{};
};
