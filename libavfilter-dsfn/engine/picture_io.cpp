#include "engine/picture_io.h"

#include <ATen/record_function.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "engine/engine_error.h"
#include "kernels/map_to_picture.h"
#include "net/mirror_edges.h"

namespace dsfn {

namespace {

// An 8-bit plane of h rows of w pixels of `channels` bytes in the caller's memory,
// as a [h, w, channels] tensor over its rows in memory order (16-bit planes are
// viewed as int16: LibTorch 1.13 has no unsigned 16-bit type). FFmpeg passes
// bottom-up pictures (vflip) with a negative linesize; LibTorch has no negative
// strides (from_blob aborts the process on one), so such a plane is viewed from
// its lowest row and `bottom_up` says that its rows run the other way.
struct PlaneView {
    torch::Tensor rows;
    bool bottom_up;

    torch::Tensor read() const { return bottom_up ? rows.flip(0) : rows; }
    void write(const torch::Tensor &picture) { rows.copy_(bottom_up ? picture.flip(0) : picture); }
};

PlaneView plane_view(uint8_t *data, int linesize, int64_t h, int64_t w, int64_t channels,
                     torch::ScalarType type = torch::kUInt8)
{
    const bool bottom_up = linesize < 0;
    const int64_t sample = type == torch::kUInt8 ? 1 : 2;
    uint8_t *lowest = bottom_up ? data + (h - 1) * static_cast<int64_t>(linesize) : data;
    return {torch::from_blob(lowest, {h, w, channels}, {std::abs(static_cast<int64_t>(linesize)) / sample, channels, 1},
                             type),
            bottom_up};
}

bool is_16bit(const DSFNImage &image)
{
    return image.layout == DSFN_LAYOUT_GBRP16;
}

// The 16-bit samples of an int16 view as the values 0-65535 they hold.
torch::Tensor unsigned_16bit(const torch::Tensor &samples)
{
    return samples.to(torch::kInt).bitwise_and_(0xFFFF);
}

// A picture computed on the device, in host memory: one copy into pinned
// memory and one wait for the stream, the output picture's only synchronisation.
torch::Tensor download(const torch::Tensor &picture, const DeviceStream &place)
{
    auto host = place.host_tensor(picture.sizes(), picture.scalar_type());
    host.copy_(picture, /*non_blocking=*/true);
    place.synchronize();
    return host;
}

} // namespace

torch::Tensor read_picture(const DSFNImage &image, const DeviceStream &place, int64_t edge)
{
    RECORD_FUNCTION("dsfn::picture_in", std::vector<c10::IValue>()); // for dsfn-tool profile
    const int64_t h = image.height, w = image.width;
    const bool deep = is_16bit(image);
    torch::Tensor rgb;
    if (image.layout == DSFN_LAYOUT_RGB24) {
        rgb = plane_view(image.data[0], image.linesize[0], h, w, 3).read().permute({2, 0, 1});
    } else {
        auto plane = [&](int i) {
            return plane_view(image.data[i], image.linesize[i], h, w, 1, deep ? torch::kShort : torch::kUInt8)
                .read()
                .squeeze(2);
        };
        rgb = torch::stack({plane(2), plane(0), plane(1)}); // G, B, R planes -> R, G, B
    }
    if (place.on_gpu()) {
        // The samples go up as they are, from pinned memory without waiting;
        // mirroring and the float conversion run on the device.
        auto staged = place.host_tensor(rgb.sizes(), rgb.scalar_type());
        staged.copy_(rgb);
        rgb = staged.to(place.device(), /*non_blocking=*/true);
    }
    if (deep) // mirrored as integers, then scaled: the float picture is written once
        return mirror_edges(unsigned_16bit(rgb).unsqueeze(0), edge)
            .to(torch::kFloat)
            .div_(65535.0f)
            .contiguous(at::MemoryFormat::ChannelsLast);
    return mirror_edges(rgb.unsqueeze(0), edge)
        .to(torch::kFloat)
        .div_(255.0f)
        .contiguous(at::MemoryFormat::ChannelsLast);
}

void write_picture(const torch::Tensor &grown_map, int64_t edge, int64_t scale, const DeviceStream &place,
                   DSFNImage &image)
{
    RECORD_FUNCTION("dsfn::picture_out", std::vector<c10::IValue>()); // for dsfn-tool profile
    const auto map = grown_map.slice(2, edge, grown_map.size(2) - edge).slice(3, edge, grown_map.size(3) - edge);
    const int64_t h = map.size(2) * scale, w = map.size(3) * scale;
    if (image.width != w || image.height != h)
        throw EngineError(EINVAL, "output picture is " + std::to_string(image.width) + "x" +
                                      std::to_string(image.height) + ", expected " + std::to_string(w) + "x" +
                                      std::to_string(h));
    const bool packed = image.layout == DSFN_LAYOUT_RGB24;
    const int plane_of[3] = {2, 0, 1}; // planar: R, G, B -> planes of G, B, R
    if (is_16bit(image)) {
        if (map.is_cpu()) {
            Rgb16Planes dst;
            for (int c = 0; c < 3; c++) {
                dst.data[c] = reinterpret_cast<uint16_t *>(image.data[plane_of[c]]);
                dst.linesize[c] = image.linesize[plane_of[c]];
            }
            dst.pixel_step = 1;
            map_to_rgb16(map, scale, dst);
            return;
        }
        // 0-65535 in int32, written back as int16 with the same low 16 bits.
        const auto rgb = download(map_to_rgb16_reference(map, scale).to(torch::kShort), place);
        for (int c = 0; c < 3; c++)
            plane_view(image.data[plane_of[c]], image.linesize[plane_of[c]], h, w, 1, torch::kShort)
                .write(rgb[c].unsqueeze(2));
        return;
    }
    if (map.is_cpu()) {
        Rgb8Planes dst;
        for (int c = 0; c < 3; c++) {
            dst.data[c] = packed ? image.data[0] + c : image.data[plane_of[c]];
            dst.linesize[c] = packed ? image.linesize[0] : image.linesize[plane_of[c]];
        }
        dst.pixel_step = packed ? 3 : 1;
        map_to_rgb8(map, scale, dst);
        return;
    }
    // Other devices: convert there and copy 8-bit values back.
    const auto rgb = download(map_to_rgb8_reference(map, scale), place);
    if (packed) {
        plane_view(image.data[0], image.linesize[0], h, w, 3).write(rgb.permute({1, 2, 0}));
    } else {
        for (int c = 0; c < 3; c++)
            plane_view(image.data[plane_of[c]], image.linesize[plane_of[c]], h, w, 1).write(rgb[c].unsqueeze(2));
    }
}

} // namespace dsfn
