#include "int8/int8_runner.h"

#include "int8/range_observer.h"

#include <algorithm>
#include <stdexcept>

namespace dsfn {

std::vector<std::string> int8_points(NetworkImpl &net)
{
    // Exactly the points the graph visits: a float32 pass over a tiny input, observed.
    class Restore {
    public:
        explicit Restore(NetworkImpl &net) : net_(net), saved_(net.shared_conv_runner()) {}
        ~Restore() { net_.run_convs_with(saved_); }
        Restore(const Restore &) = delete;
        Restore &operator=(const Restore &) = delete;

    private:
        NetworkImpl &net_;
        std::shared_ptr<ConvRunner> saved_;
    } restore(net);
    torch::NoGradGuard no_grad;
    auto observer = std::make_shared<RangeObserver>();
    net.run_convs_with(observer);
    const auto x = torch::zeros({1, net.architecture().colors, 8, 8});
    const auto level1 = net.level1(x, x, x);
    net.level2(level1, level1);
    std::vector<std::string> points;
    for (const auto &point : observer->ranges())
        points.push_back(point.first);
    return points;
}

std::unordered_map<std::string, QuantParams> int8_grids(NetworkImpl &net, const ActivationRanges &ranges,
                                                        const std::string &ranges_path)
{
    std::unordered_map<std::string, QuantParams> grids;
    for (const auto &point : int8_points(net)) {
        auto found = ranges.points.find(point);
        if (found == ranges.points.end())
            throw std::runtime_error(ranges_path + ": no range for " + point + " (made for another network?)");
        grids.emplace(point, quant_params(found->second.lo, found->second.hi));
    }
    return grids;
}

Int8Runner::Int8Runner(NetworkImpl &net, const ActivationRanges &ranges, const std::string &ranges_path)
    : points_(int8_grids(net, ranges, ranges_path))
{
    torch::NoGradGuard no_grad;
    for (const auto &m : net.named_modules("", false)) {
        if (auto warp = std::dynamic_pointer_cast<DeformConv3x3Impl>(m.value())) {
            warps_.emplace(warp.get(),
                           std::make_unique<DeformConvU8>(quantize_weight_per_channel(warp->weight), warp->bias));
            continue;
        }
        auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(m.value());
        if (!conv)
            continue;
        require_plain_conv(m.key(), *conv);
        auto packed = make_quantized_conv(conv->weight, conv->bias);
        const bool has_point = points_.count(m.key()) > 0;
        // A convolution without an output point gives float32 (conv_to_float): in
        // 8-bit arithmetic only where its output is not rounded to 8 bits.
        if (has_point || !packed->rounds_float_output())
            convs_.emplace(conv.get(), PackedConv{std::move(packed), has_point ? params(m.key()) : QuantParams{}});
    }
}

const QuantParams &Int8Runner::params(const std::string &point) const
{
    auto found = points_.find(point);
    if (found == points_.end())
        throw std::logic_error("int8: no quantization parameters for " + point);
    return found->second;
}

torch::Tensor Int8Runner::enter(const std::string &point, const std::vector<torch::Tensor> &batch)
{
    return quantize_u8(batch, params(point));
}

torch::Tensor Int8Runner::enter_channels(const std::string &point, const std::vector<torch::Tensor> &parts)
{
    return quantize_u8_channels(parts, params(point));
}

torch::Tensor Int8Runner::leave(const torch::Tensor &x)
{
    return x.is_quantized() ? dequantize_u8(x) : x;
}

torch::Tensor Int8Runner::conv_to_float(torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    auto found = convs_.find(&conv);
    if (found == convs_.end())
        return conv.forward(leave(x));
    // The last convolution's input is a residual sum, whose 8-bit copy it reads.
    return found->second.conv->to_float(x.is_quantized() ? x : bytes_of(x, "decoder.1"), found->second.output);
}

std::array<torch::Tensor, 3> Int8Runner::conv_onto_bases(torch::nn::Conv2dImpl &conv, const torch::Tensor &x,
                                                         const std::array<torch::Tensor, 3> &bases)
{
    auto found = convs_.find(&conv);
    if (found == convs_.end())
        return ConvRunner::conv_onto_bases(conv, x, bases);
    // The residuals added onto the bases in the convolution's pass where the backend can.
    const auto &bytes = x.is_quantized() ? x : bytes_of(x, "decoder.1");
    return thirds(found->second.conv->add_float_into(bytes, found->second.output, stacked_bases(bases)));
}

std::pair<const Int8Runner::PackedConv *, torch::Tensor>
Int8Runner::prepare(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x) const
{
    auto found = convs_.find(&conv);
    if (found == convs_.end())
        throw std::logic_error("int8: convolution " + point + " was not prepacked");
    return {&found->second, x.is_quantized() ? x : bytes_of(x, point)};
}

torch::Tensor Int8Runner::conv(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    const auto [packed, bytes] = prepare(point, conv, x);
    return packed->conv->to_u8(bytes, packed->output, false);
}

torch::Tensor Int8Runner::conv_leaky(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    const auto [packed, bytes] = prepare(point, conv, x);
    return packed->conv->to_u8(bytes, packed->output, true);
}

torch::Tensor Int8Runner::conv_float(const std::string &point, torch::nn::Conv2dImpl &conv, const torch::Tensor &x)
{
    const auto [packed, bytes] = prepare(point, conv, x);
    return packed->conv->to_float(bytes, packed->output);
}

void Int8Runner::remember(const torch::Tensor &value, torch::Tensor bytes)
{
    twins_.erase(std::remove_if(twins_.begin(), twins_.end(), [](const Twin &t) { return t.value.expired(); }),
                 twins_.end());
    twins_.push_back({Twin::Weak(value.getIntrusivePtr()), std::move(bytes)});
}

const torch::Tensor &Int8Runner::bytes_of(const torch::Tensor &value, const std::string &point) const
{
    for (const auto &t : twins_)
        if (t.value.lock().get() == value.unsafeGetTensorImpl())
            return t.bytes;
    throw std::logic_error("int8: convolution " + point + " got a float input that is not a residual sum");
}

torch::Tensor Int8Runner::leaky(torch::Tensor x)
{
    // On 8 bits, LeakyReLU keeps its input's scale and zero point.
    return torch::leaky_relu(x, kLeakySlope);
}

torch::Tensor Int8Runner::add(const std::string &point, const torch::Tensor &a, const torch::Tensor &b)
{
    auto sum = residual_sum_u8(a, b, params(point));
    remember(sum.value, std::move(sum.bytes));
    return sum.value;
}

torch::Tensor Int8Runner::warp_three(const std::string &point, DeformConv3x3Impl &warp, const torch::Tensor &centre,
                                     const torch::Tensor &to_first, const torch::Tensor &to_last)
{
    auto found = warps_.find(&warp);
    if (found == warps_.end())
        throw std::logic_error("int8: the warp before " + point + " was not prepacked");
    const auto &grid = params(point);
    // The warp samples the 8-bit copy of the centre features (a residual sum);
    // the centre itself enters the decoder from its float value, as any entry.
    const auto codes = centre.is_quantized() ? centre : bytes_of(centre, point);
    const int64_t n = centre.size(0);
    auto three = at::_empty_affine_quantized({3 * n, centre.size(1), centre.size(2), centre.size(3)},
                                             torch::dtype(torch::kQUInt8), grid.scale, grid.zero_point,
                                             at::MemoryFormat::ChannelsLast);
    // Channels-last, batch outermost: each third is one run of bytes.
    auto *first = reinterpret_cast<uint8_t *>(three.data_ptr<c10::quint8>());
    const int64_t part = centre.numel();
    found->second->run(codes, to_first, grid, first);
    quantize_u8_into(leave(centre), grid, first + part);
    found->second->run(codes, to_last, grid, first + 2 * part);
    return three;
}

} // namespace dsfn
