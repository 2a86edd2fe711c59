#include "net/deform_conv.h"
#include "kernels/deform_sample.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dsfn {

namespace {

constexpr int kTaps = kDeformTaps;
constexpr int64_t kBandBytes = 4 << 20; // im2col rows sampled and multiplied at once

// The product of an im2col matrix [n, 9c, h, w] with weights [co, 9c, 1, 1], a 1x1
// convolution. LibTorch sends an fp32 1x1 convolution down its generic GEMM path,
// which with Debian's reference BLAS runs many times slower than oneDNN
// (bench/REPORT.md, "banded deformable convolution"): call oneDNN directly.
torch::Tensor im2col_product(const torch::Tensor &cols, const torch::Tensor &wmat, const torch::Tensor &bias)
{
    if (cols.is_cpu() && at::hasMKLDNN())
        return at::mkldnn_convolution(cols, wmat, bias, {0, 0}, {1, 1}, {1, 1}, 1);
    return torch::conv2d(cols, wmat, bias);
}

// Inference on the CPU: sample and multiply a band of rows at a time, so the
// im2col matrix (9x the features) is read back from cache rather than memory.
// out: the result's place, channels-last [n, co, h, w] of the weights' type;
// undefined: a new tensor.
torch::Tensor banded_inference(const torch::Tensor &input, const torch::Tensor &offset, const torch::Tensor &weight,
                               const torch::Tensor &bias, torch::Tensor out)
{
    // A range of its own in LibTorch's profiler (dsfn-tool profile); nothing when it is off.
    RECORD_FUNCTION("dsfn::deform_sampling", std::vector<c10::IValue>());
    const int64_t n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
    const int64_t co = weight.size(0);
    const auto type = weight.scalar_type();
    const DeformSampler sampler(input, offset, type);
    if (!out.defined())
        out = torch::empty({n, co, h, w}, input.options().dtype(type).memory_format(at::MemoryFormat::ChannelsLast));
    TORCH_CHECK(out.scalar_type() == type && out.sizes() == torch::IntArrayRef({n, co, h, w}) &&
                    out.is_contiguous(at::MemoryFormat::ChannelsLast),
                "deform conv: the output's place is not a channels-last [n, co, h, w] of the weights' type");
    // At the network's warp widths (32, 64 channels): sampled and multiplied tile by
    // tile, no im2col matrix at all (bench/REPORT.md, 2026-11-30: 1.2-1.4x faster).
    if (sampler.sample_and_multiply(weight, bias, out))
        return out;
    // The fused sampler fills the im2col matrix in (tap, channel) order; permute the weights to match.
    auto wmat = weight.permute({0, 2, 3, 1}).reshape({co, kTaps * c, 1, 1}).contiguous(at::MemoryFormat::ChannelsLast);

    // Bands of ~4 MB of im2col rows, one after the other; all threads sample a
    // band, then oneDNN multiplies it on all threads. The whole matrix at once was
    // 2.2x slower; a band per thread with oneDNN nested in each (the earlier
    // design) was no faster on 2 threads than on one (bench/REPORT.md, 2026-11-30).
    const int64_t rows = sampler.rows();
    const int64_t row_bytes =
        std::max<int64_t>(1, w) * sampler.columns() * static_cast<int64_t>(c10::elementSize(type));
    // At least a row per thread: the sampler shares a band's rows among the threads.
    const int64_t threads = at::get_num_threads();
    const int64_t band = std::min(rows, std::max(kBandBytes / row_bytes, threads));
    auto scratch = torch::empty({band * w * sampler.columns()}, input.options().dtype(type));
    for (int64_t r0 = 0; r0 < rows; r0 += band) {
        const int64_t r1 = std::min(rows, r0 + band);
        auto cols = scratch.narrow(0, 0, (r1 - r0) * w * sampler.columns());
        sampler.sample(r0, r1, cols);
        cols = cols.view({1, r1 - r0, w, sampler.columns()});
        auto prod = im2col_product(cols.permute({0, 3, 1, 2}), wmat, bias).contiguous(at::MemoryFormat::ChannelsLast);
        // Rows of a channels-last output are contiguous: band [r0, r1) is one block.
        std::memcpy(static_cast<char *>(out.data_ptr()) + r0 * w * co * out.element_size(), prod.data_ptr(),
                    static_cast<size_t>(prod.numel() * prod.element_size()));
    }
    return out;
}

// Stock ops that autograd differentiates, any device; with sample_grid, the
// samples rounded to that 8-bit grid.
torch::Tensor stock_deform_conv3x3(const torch::Tensor &input, const torch::Tensor &offset, const torch::Tensor &weight,
                                   const torch::Tensor &bias, const SampleGrid *sample_grid)
{
    const int64_t n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
    const int64_t co = weight.size(0);
    const auto opts = offset.options();

    // Absolute sampling positions of the 9 taps: pixel + kernel tap + offset, [n, 9, h, w].
    auto ys = torch::arange(h, opts).view({1, 1, h, 1});
    auto xs = torch::arange(w, opts).view({1, 1, 1, w});
    auto tap = torch::arange(kTaps, opts);
    auto tap_y = (torch::floor(tap / 3) - 1).view({1, kTaps, 1, 1});
    auto tap_x = (torch::fmod(tap, 3) - 1).view({1, kTaps, 1, 1});
    auto off = offset.view({n, kTaps, 2, h, w});
    auto py = ys + tap_y + off.select(2, 0);
    auto px = xs + tap_x + off.select(2, 1);

    // grid_sample with align_corners=false maps pixel p to (2p + 1) / size - 1;
    // this form also holds for 1-pixel wide or high frames. Zero padding makes
    // neighbours outside the picture count as zero, as in Dai et al.
    auto gy = (2 * py + 1) / h - 1;
    auto gx = (2 * px + 1) / w - 1;
    auto grid = torch::stack({gx, gy}, -1).view({n, kTaps * h, w, 2});
    // Sampling runs in fp32 whatever the weights' type (LibTorch's CPU sampler has
    // no bf16 kernel, and positions need the precision); the product runs in theirs.
    auto sampled = torch::grid_sampler(input.to(torch::kFloat), grid.to(torch::kFloat), /*bilinear*/ 0,
                                       /*zeros*/ 0, /*align_corners*/ false);
    if (sample_grid)
        sampled = torch::fake_quantize_per_tensor_affine(sampled, sample_grid->scale, sample_grid->zero_point, 0, 255);
    sampled = sampled.to(weight.scalar_type());

    // [n, c, 9h, w] is the im2col matrix [n, c*9, h, w] in the weights' own
    // (channel, tap) order.
    auto cols = sampled.view({n, c * kTaps, h, w}).contiguous(at::MemoryFormat::ChannelsLast);
    auto wmat = weight.reshape({co, c * kTaps, 1, 1}).contiguous(at::MemoryFormat::ChannelsLast);
    return im2col_product(cols, wmat, bias);
}

} // namespace

torch::Tensor deform_conv3x3(const torch::Tensor &input, const torch::Tensor &offset, const torch::Tensor &weight,
                             const torch::Tensor &bias)
{
    const bool needs_grad = torch::GradMode::is_enabled() && (input.requires_grad() || offset.requires_grad() ||
                                                              weight.requires_grad() || bias.requires_grad());
    // Inference on the CPU: the fused sampler and oneDNN, band by band.
    if (input.is_cpu() && !needs_grad)
        return banded_inference(input, offset, weight, bias, {});
    // Training (and other devices).
    return stock_deform_conv3x3(input, offset, weight, bias, nullptr);
}

void deform_conv3x3_into(const torch::Tensor &input, const torch::Tensor &offset, const torch::Tensor &weight,
                         const torch::Tensor &bias, const torch::Tensor &out)
{
    const bool needs_grad = torch::GradMode::is_enabled() && (input.requires_grad() || offset.requires_grad() ||
                                                              weight.requires_grad() || bias.requires_grad());
    if (input.is_cpu() && out.is_cpu() && !needs_grad)
        banded_inference(input, offset, weight, bias, out);
    else
        out.copy_(deform_conv3x3(input, offset, weight, bias));
}

torch::Tensor deform_conv3x3_rounded_samples(const torch::Tensor &input, const torch::Tensor &offset,
                                             const torch::Tensor &weight, const torch::Tensor &bias,
                                             const SampleGrid &grid)
{
    return stock_deform_conv3x3(input, offset, weight, bias, &grid);
}

torch::Tensor deform_conv3x3_reference(const torch::Tensor &input_, const torch::Tensor &offset_,
                                       const torch::Tensor &weight_, const torch::Tensor &bias_)
{
    auto input = input_.to(torch::kFloat).contiguous();
    auto offset = offset_.to(torch::kFloat).contiguous();
    auto weight = weight_.to(torch::kFloat).contiguous();
    auto bias = bias_.to(torch::kFloat).contiguous();
    const int64_t n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
    const int64_t co = weight.size(0);
    auto out = torch::zeros({n, co, h, w});
    auto in_a = input.accessor<float, 4>();
    auto off_a = offset.accessor<float, 4>();
    auto w_a = weight.accessor<float, 4>();
    auto b_a = bias.accessor<float, 1>();
    auto out_a = out.accessor<float, 4>();

    auto pixel = [&](int64_t b, int64_t ch, int64_t y, int64_t x) -> double {
        if (y < 0 || y >= h || x < 0 || x >= w)
            return 0.0;
        return in_a[b][ch][y][x];
    };
    auto bilinear = [&](int64_t b, int64_t ch, double y, double x) -> double {
        const double y0 = std::floor(y), x0 = std::floor(x);
        const double fy = y - y0, fx = x - x0;
        const auto iy = static_cast<int64_t>(y0), ix = static_cast<int64_t>(x0);
        return (1 - fy) * (1 - fx) * pixel(b, ch, iy, ix) + (1 - fy) * fx * pixel(b, ch, iy, ix + 1) +
               fy * (1 - fx) * pixel(b, ch, iy + 1, ix) + fy * fx * pixel(b, ch, iy + 1, ix + 1);
    };

    for (int64_t b = 0; b < n; b++)
        for (int64_t o = 0; o < co; o++)
            for (int64_t y = 0; y < h; y++)
                for (int64_t x = 0; x < w; x++) {
                    double acc = b_a[o];
                    for (int64_t k = 0; k < kTaps; k++) {
                        const double sy = y + k / 3 - 1 + off_a[b][2 * k][y][x];
                        const double sx = x + k % 3 - 1 + off_a[b][2 * k + 1][y][x];
                        for (int64_t ch = 0; ch < c; ch++)
                            acc += w_a[o][ch][k / 3][k % 3] * bilinear(b, ch, sy, sx);
                    }
                    out_a[b][o][y][x] = static_cast<float>(acc);
                }
    return out;
}

DeformConv3x3Impl::DeformConv3x3Impl(int64_t in_channels, int64_t out_channels)
{
    // Same initialisation as torch::nn::Conv2d (kaiming-uniform, a = sqrt(5)).
    weight = register_parameter("weight", torch::empty({out_channels, in_channels, 3, 3}));
    bias = register_parameter("bias", torch::empty({out_channels}));
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_channels * 9));
    torch::nn::init::uniform_(bias, -bound, bound);
}

torch::Tensor DeformConv3x3Impl::forward(const torch::Tensor &input, const torch::Tensor &offset)
{
    return deform_conv3x3(input, offset, weight, bias);
}

void DeformConv3x3Impl::forward_into(const torch::Tensor &input, const torch::Tensor &offset, const torch::Tensor &out)
{
    deform_conv3x3_into(input, offset, weight, bias, out);
}

} // namespace dsfn
