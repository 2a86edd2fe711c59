#include "engine/yuv_picture.h"

#include <cmath>

#include "engine/plane_view.h"

namespace dsfn {

namespace {

// Bits of a layout's code values (P010 keeps its 10 in the high bits of 16).
int code_bits(DSFNPixelLayout layout)
{
    switch (layout) {
    case DSFN_LAYOUT_P010:
        return 10;
    case DSFN_LAYOUT_GBRP16:
    case DSFN_LAYOUT_YUV444P16:
        return 16;
    default:
        return 8;
    }
}

bool is_420(DSFNPixelLayout layout)
{
    return layout == DSFN_LAYOUT_NV12 || layout == DSFN_LAYOUT_P010;
}

bool is_rgb0(DSFNPixelLayout layout)
{
    return layout == DSFN_LAYOUT_RGB0 || layout == DSFN_LAYOUT_BGR0;
}

bool stores_16bit(DSFNPixelLayout layout)
{
    return code_bits(layout) > 8;
}

// Code values <-> the normalised Y' in [0, 1] and Cb, Cr in [-0.5, 0.5].
struct Coding {
    double kr, kb; // the matrix's luma weights of R and B
    double y_zero, y_span;
    double c_zero, c_span;
    double max; // the largest code value
    int bits;

    explicit Coding(const DSFNImage &image) : kr(image.kr), kb(image.kb), bits(code_bits(image.layout))
    {
        max = std::ldexp(1.0, bits) - 1;
        const double unit = std::ldexp(1.0, bits - 8); // one 8-bit step in code values
        if (image.full_range) {
            y_zero = 0, y_span = max;
            c_zero = std::ldexp(1.0, bits - 1), c_span = max;
        } else {
            y_zero = 16 * unit, y_span = 219 * unit;
            c_zero = 128 * unit, c_span = 224 * unit;
        }
    }
};

int64_t half(int64_t n)
{
    return (n + 1) / 2;
}

// A plane's code values as float, [h, w, channels].
torch::Tensor read_codes(const DSFNImage &image, int plane, int64_t h, int64_t w, int64_t channels,
                         const torch::Device &device)
{
    const bool deep = stores_16bit(image.layout);
    auto samples = plane_view(image.data[plane], image.linesize[plane], h, w, channels,
                              deep ? torch::kShort : torch::kUInt8, device)
                       .read();
    if (!deep)
        return samples.to(torch::kFloat);
    auto values = unsigned_16bit(samples);
    if (image.layout == DSFN_LAYOUT_P010)
        values = values.bitwise_right_shift(6);
    return values.to(torch::kFloat);
}

// Rounded code values into a plane, [h, w, channels].
void write_codes(const torch::Tensor &codes, const DSFNImage &image, int plane, const torch::Device &device)
{
    const bool deep = stores_16bit(image.layout);
    const int64_t h = codes.size(0), w = codes.size(1), channels = codes.size(2);
    auto view = plane_view(image.data[plane], image.linesize[plane], h, w, channels,
                           deep ? torch::kShort : torch::kUInt8, device);
    auto values = codes.to(torch::kInt);
    if (image.layout == DSFN_LAYOUT_P010)
        values = values.bitwise_left_shift(6);
    // 16-bit values above 32767 keep their low 16 bits in int16.
    view.write(values.to(deep ? torch::kShort : torch::kUInt8));
}

// A [h, w] plane grown by repeating its edge samples: columns at the left and
// right, rows at the top and bottom.
torch::Tensor pad_edges(const torch::Tensor &x, int64_t left, int64_t right, int64_t top, int64_t bottom)
{
    namespace F = torch::nn::functional;
    return F::pad(x.unsqueeze(0).unsqueeze(0), F::PadFuncOptions({left, right, top, bottom}).mode(torch::kReplicate))
        .squeeze(0)
        .squeeze(0);
}

// [hc, wc] chroma at 4:2:0 sites to [h, w]: even columns are the samples, odd
// columns the mean of their neighbours; rows take 3/4 of the nearer chroma row
// and 1/4 of the farther one.
torch::Tensor upsample_chroma(const torch::Tensor &c, int64_t h, int64_t w)
{
    const int64_t hc = c.size(0), wc = c.size(1);
    auto next = pad_edges(c, 0, 1, 0, 0).narrow(1, 1, wc);
    auto cols = torch::stack({c, (c + next) * 0.5}, 2).reshape({hc, 2 * wc}).narrow(1, 0, w);
    auto padded = pad_edges(cols, 0, 0, 1, 1);
    auto above = padded.narrow(0, 0, hc), below = padded.narrow(0, 2, hc);
    auto rows = torch::stack({cols * 0.75 + above * 0.25, cols * 0.75 + below * 0.25}, 1).reshape({2 * hc, w});
    return rows.narrow(0, 0, h);
}

// [h, w] chroma to [ceil(h/2), ceil(w/2)] at 4:2:0 sites: weights 1/4, 1/2, 1/4
// across the columns around each even column, the mean of the two rows it lies
// between.
torch::Tensor downsample_chroma(const torch::Tensor &c)
{
    const int64_t h = c.size(0), w = c.size(1), hc = half(h), wc = half(w);
    auto even = pad_edges(c, 1, 2 * wc - w + 1, 0, 2 * hc - h); // a column before, even sizes
    auto left = even.narrow(1, 0, 2 * wc).reshape({2 * hc, wc, 2}).select(2, 0);
    auto centre = even.narrow(1, 1, 2 * wc).reshape({2 * hc, wc, 2}).select(2, 0);
    auto right = even.narrow(1, 1, 2 * wc).reshape({2 * hc, wc, 2}).select(2, 1);
    auto cols = centre * 0.5 + (left + right) * 0.25;
    return cols.reshape({hc, 2, wc}).mean(1);
}

} // namespace

bool is_ycbcr_layout(DSFNPixelLayout layout)
{
    return !is_rgb_layout(layout) && !is_rgb0(layout);
}

bool is_rgb_layout(DSFNPixelLayout layout)
{
    return layout == DSFN_LAYOUT_GBRP || layout == DSFN_LAYOUT_RGB24 || layout == DSFN_LAYOUT_GBRP16;
}

int plane_count(DSFNPixelLayout layout)
{
    switch (layout) {
    case DSFN_LAYOUT_RGB24:
    case DSFN_LAYOUT_RGB0:
    case DSFN_LAYOUT_BGR0:
        return 1;
    case DSFN_LAYOUT_NV12:
    case DSFN_LAYOUT_P010:
        return 2;
    default:
        return 3;
    }
}

torch::Tensor read_yuv_picture(const DSFNImage &image, const torch::Device &device)
{
    const int64_t h = image.height, w = image.width;
    if (is_rgb0(image.layout)) {
        auto rgb = read_codes(image, 0, h, w, 4, device).narrow(2, 0, 3).permute({2, 0, 1});
        if (image.layout == DSFN_LAYOUT_BGR0)
            rgb = rgb.flip(0);
        return rgb.div(255.0f).contiguous();
    }
    const Coding k(image);
    torch::Tensor y = read_codes(image, 0, h, w, 1, device).squeeze(2), cb, cr;
    if (is_420(image.layout)) {
        auto pairs = read_codes(image, 1, half(h), half(w), 2, device);
        cb = upsample_chroma(pairs.select(2, 0), h, w);
        cr = upsample_chroma(pairs.select(2, 1), h, w);
    } else {
        cb = read_codes(image, 1, h, w, 1, device).squeeze(2);
        cr = read_codes(image, 2, h, w, 1, device).squeeze(2);
    }
    auto luma = (y - k.y_zero) / k.y_span;
    auto pb = (cb - k.c_zero) / k.c_span, pr = (cr - k.c_zero) / k.c_span;
    auto r = luma + pr * (2 * (1 - k.kr));
    auto b = luma + pb * (2 * (1 - k.kb));
    auto g = (luma - r * k.kr - b * k.kb) / (1 - k.kr - k.kb);
    return torch::stack({r, g, b}).clamp_(0, 1);
}

void write_yuv_picture(const torch::Tensor &rgb_in, const DSFNImage &image, const torch::Device &device)
{
    const auto rgb = rgb_in.to(device, torch::kFloat).clamp(0, 1);
    const Coding k(image);
    auto codes = [&](const torch::Tensor &x) { return x.round().clamp_(0, k.max); };
    if (is_rgb0(image.layout)) {
        auto ordered = image.layout == DSFN_LAYOUT_BGR0 ? rgb.flip(0) : rgb;
        auto unused = torch::full_like(rgb[0], 255).unsqueeze(0);
        write_codes(codes(torch::cat({ordered * 255, unused}).permute({1, 2, 0})), image, 0, device);
        return;
    }
    const auto r = rgb[0], g = rgb[1], b = rgb[2];
    auto luma = r * k.kr + g * (1 - k.kr - k.kb) + b * k.kb;
    auto pb = (b - luma) / (2 * (1 - k.kb)), pr = (r - luma) / (2 * (1 - k.kr));
    write_codes(codes(luma * k.y_span + k.y_zero).unsqueeze(2), image, 0, device);
    if (is_420(image.layout)) {
        auto cb = downsample_chroma(pb) * k.c_span + k.c_zero;
        auto cr = downsample_chroma(pr) * k.c_span + k.c_zero;
        write_codes(codes(torch::stack({cb, cr}, 2)), image, 1, device);
    } else {
        write_codes(codes(pb * k.c_span + k.c_zero).unsqueeze(2), image, 1, device);
        write_codes(codes(pr * k.c_span + k.c_zero).unsqueeze(2), image, 2, device);
    }
}

double picture_difference(const DSFNImage &a, const DSFNImage &b, const torch::Device &device)
{
    const int64_t h = a.height, w = a.width;
    // Each plane's rows, samples a row and channels a sample.
    const int64_t shapes[4][3][3] = {
        {{h, w, 1}, {h, w, 1}, {h, w, 1}},  // three full planes
        {{h, w, 3}},                        // RGB24
        {{h, w, 4}},                        // RGB0, BGR0
        {{h, w, 1}, {half(h), half(w), 2}}, // 4:2:0
    };
    const int kind = a.layout == DSFN_LAYOUT_RGB24 ? 1 : is_rgb0(a.layout) ? 2 : is_420(a.layout) ? 3 : 0;
    torch::Tensor sum; // on the samples' device: one wait for the result, at the end
    double count = 0;
    for (int i = 0; i < plane_count(a.layout); i++) {
        const auto &p = shapes[kind][i];
        auto da = read_codes(a, i, p[0], p[1], p[2], device);
        auto db = read_codes(b, i, p[0], p[1], p[2], device);
        if (is_rgb0(a.layout)) { // the unused byte is not a sample
            da = da.narrow(2, 0, 3);
            db = db.narrow(2, 0, 3);
        }
        auto plane_sum = (da - db).abs().sum(torch::kDouble);
        sum = sum.defined() ? sum + plane_sum : plane_sum;
        count += static_cast<double>(da.numel());
    }
    return 100.0 * sum.item<double>() / count / std::ldexp(1.0, code_bits(a.layout));
}

} // namespace dsfn
