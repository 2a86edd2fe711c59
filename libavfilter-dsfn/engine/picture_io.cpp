#include "engine/picture_io.h"

#include <ATen/record_function.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "engine/engine_error.h"
#include "engine/plane_view.h"
#include "engine/yuv_picture.h"
#include "kernels/map_to_picture.h"
#include "net/mirror_edges.h"

namespace dsfn {

namespace {

bool is_16bit(const DSFNImage &image)
{
    return image.layout == DSFN_LAYOUT_GBRP16;
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

// An enum field as the int a C caller may have stored in it: reading a value
// outside the enumerators as the enum type is undefined in C++.
template <typename Enum>
int raw_value(const Enum &field)
{
    static_assert(sizeof(Enum) == sizeof(int), "a C enum is an int here");
    int value;
    std::memcpy(&value, &field, sizeof value);
    return value;
}

} // namespace

void check_image(const DSFNImage &image)
{
    const int layout = raw_value(image.layout), memory = raw_value(image.memory);
    if (layout < DSFN_LAYOUT_GBRP || layout > DSFN_LAYOUT_BGR0)
        throw EngineError(EINVAL, "invalid picture: unknown layout " + std::to_string(layout));
    if (memory < DSFN_MEMORY_HOST || memory > DSFN_MEMORY_DEVICE)
        throw EngineError(EINVAL, "invalid picture: unknown memory " + std::to_string(memory));
    if (is_ycbcr_layout(image.layout) && !(image.kr > 0 && image.kb > 0 && image.kr + image.kb < 1))
        throw EngineError(EINVAL, "invalid picture: Y'CbCr luma weights kr " + std::to_string(image.kr) + ", kb " +
                                      std::to_string(image.kb));
    if (image.width < 1 || image.height < 1)
        throw EngineError(EINVAL,
                          "invalid picture: " + std::to_string(image.width) + "x" + std::to_string(image.height));
    for (int i = 0; i < plane_count(image.layout); i++)
        if (!image.data[i] || !image.linesize[i])
            throw EngineError(EINVAL, "invalid picture: plane " + std::to_string(i) + " is missing");
}

torch::Device memory_of(const DSFNImage &image, const DeviceStream &place)
{
    if (image.memory != DSFN_MEMORY_DEVICE)
        return torch::kCPU;
    if (!place.on_gpu())
        throw EngineError(EINVAL, "the picture is in GPU memory, but the engine runs on the CPU (device=cuda runs it "
                                  "on the GPU)");
    return place.device();
}

torch::Tensor read_picture(const DSFNImage &image, const DeviceStream &place, int64_t edge)
{
    RECORD_FUNCTION("dsfn::picture_in", std::vector<c10::IValue>()); // for dsfn-tool profile
    const auto memory = memory_of(image, place);
    torch::Tensor picture;
    if (!is_rgb_layout(image.layout)) {
        // The filter sends these layouts in device memory, where this runs next to
        // the samples; from host memory the float picture goes up as it is.
        picture = mirror_edges(read_yuv_picture(image, memory).to(place.device()).unsqueeze(0), edge);
    } else {
        const int64_t h = image.height, w = image.width;
        const bool deep = is_16bit(image);
        torch::Tensor rgb;
        if (image.layout == DSFN_LAYOUT_RGB24) {
            rgb =
                plane_view(image.data[0], image.linesize[0], h, w, 3, torch::kUInt8, memory).read().permute({2, 0, 1});
        } else {
            auto plane = [&](int i) {
                return plane_view(image.data[i], image.linesize[i], h, w, 1, deep ? torch::kShort : torch::kUInt8,
                                  memory)
                    .read()
                    .squeeze(2);
            };
            rgb = torch::stack({plane(2), plane(0), plane(1)}); // G, B, R planes -> R, G, B
        }
        if (place.on_gpu() && memory.is_cpu()) {
            // The samples go up as they are, from pinned memory without waiting;
            // mirroring and the float conversion run on the device.
            auto staged = place.host_tensor(rgb.sizes(), rgb.scalar_type());
            staged.copy_(rgb);
            rgb = staged.to(place.device(), /*non_blocking=*/true);
        }
        // Mirrored as integers, then scaled: the float picture is written once.
        if (deep)
            picture = mirror_edges(unsigned_16bit(rgb).unsqueeze(0), edge).to(torch::kFloat).div_(65535.0f);
        else
            picture = mirror_edges(rgb.unsqueeze(0), edge).to(torch::kFloat).div_(255.0f);
    }
    picture = picture.contiguous(at::MemoryFormat::ChannelsLast);
    if (image.memory == DSFN_MEMORY_DEVICE)
        place.synchronize(); // the caller may reuse the picture's memory once this returns
    return picture;
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
    const auto memory = memory_of(image, place);
    if (!is_rgb_layout(image.layout)) {
        auto rgb = torch::pixel_shuffle(map, scale)[0];
        if (memory.is_cpu() && !rgb.is_cpu())
            rgb = download(rgb, place);
        write_yuv_picture(rgb, image, memory);
        if (image.memory == DSFN_MEMORY_DEVICE)
            place.synchronize(); // the picture is whole when this returns
        return;
    }
    const bool packed = image.layout == DSFN_LAYOUT_RGB24;
    const int plane_of[3] = {2, 0, 1}; // planar: R, G, B -> planes of G, B, R
    if (map.is_cpu()) {
        // The engine's device is the CPU, so is the picture's memory (memory_of).
        if (is_16bit(image)) {
            Rgb16Planes dst;
            for (int c = 0; c < 3; c++) {
                dst.data[c] = reinterpret_cast<uint16_t *>(image.data[plane_of[c]]);
                dst.linesize[c] = image.linesize[plane_of[c]];
            }
            dst.pixel_step = 1;
            map_to_rgb16(map, scale, dst);
            return;
        }
        Rgb8Planes dst;
        for (int c = 0; c < 3; c++) {
            dst.data[c] = packed ? image.data[0] + c : image.data[plane_of[c]];
            dst.linesize[c] = packed ? image.linesize[0] : image.linesize[plane_of[c]];
        }
        dst.pixel_step = packed ? 3 : 1;
        map_to_rgb8(map, scale, dst);
        return;
    }
    // Other devices: convert there, then copy the samples back (or, for a picture
    // in device memory, into it). 16 bits: 0-65535 in int32, written as int16 with
    // the same low 16 bits.
    const auto type = is_16bit(image) ? torch::kShort : torch::kUInt8;
    auto rgb = is_16bit(image) ? map_to_rgb16_reference(map, scale).to(type) : map_to_rgb8_reference(map, scale);
    if (memory.is_cpu())
        rgb = download(rgb, place);
    if (packed) {
        plane_view(image.data[0], image.linesize[0], h, w, 3, type, memory).write(rgb.permute({1, 2, 0}));
    } else {
        for (int c = 0; c < 3; c++)
            plane_view(image.data[plane_of[c]], image.linesize[plane_of[c]], h, w, 1, type, memory)
                .write(rgb[c].unsqueeze(2));
    }
    if (image.memory == DSFN_MEMORY_DEVICE)
        place.synchronize();
}

} // namespace dsfn
