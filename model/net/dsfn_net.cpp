#include "net/dsfn_net.h"

#include <stdexcept>

namespace dsfn {

namespace nn = torch::nn;

namespace {

nn::Conv2d conv3x3(int64_t in, int64_t out)
{
    return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(1).padding(1));
}

// In place: the convolution's output is not needed by its own backward, and
// inference saves a tensor allocation and a pass over memory per block.
torch::Tensor leaky_(torch::Tensor x)
{
    return torch::leaky_relu_(x, kLeakySlope);
}

// A Sequential of SubModules and convolutions through a runner.
torch::Tensor run_sequence(torch::nn::SequentialImpl &sequence, ConvRunner &runner, const std::string &name,
                           torch::Tensor x)
{
    for (const auto &child : sequence.named_children()) {
        const std::string path = name + "." + child.key();
        auto conv = std::dynamic_pointer_cast<nn::Conv2dImpl>(child.value());
        if (auto sub = std::dynamic_pointer_cast<SubModuleImpl>(child.value()))
            x = sub->run(runner, path, x);
        else if (conv)
            x = runner.conv(path, *conv, x);
        else
            throw std::logic_error("no runner step for module " + path);
    }
    return x;
}

} // namespace

torch::Tensor ConvRunner::enter_channels(const std::string &point, const std::vector<torch::Tensor> &parts)
{
    return enter(point, {torch::cat(parts, 1)});
}

torch::Tensor ConvRunner::warp_three(const std::string &point, DeformConv3x3Impl &warp, const torch::Tensor &centre,
                                     const torch::Tensor &to_first, const torch::Tensor &to_last)
{
    const auto centre_float = leave(centre);
    return enter(point, {warp.forward(centre_float, to_first), centre_float, warp.forward(centre_float, to_last)});
}

namespace {

// Whether the bases are the thirds of one float32 channels-last batch, in order.
bool thirds_of_one_batch(const std::array<torch::Tensor, 3> &bases)
{
    const auto &first = bases[0];
    const int64_t bytes = first.numel() * static_cast<int64_t>(sizeof(float));
    for (int i = 0; i < 3; i++) {
        const auto &b = bases[i];
        if (b.scalar_type() != torch::kFloat || b.dim() != 4 || b.sizes() != first.sizes() ||
            !b.is_contiguous(at::MemoryFormat::ChannelsLast) || !b.storage().is_alias_of(first.storage()) ||
            static_cast<char *>(b.data_ptr()) != static_cast<char *>(first.data_ptr()) + i * bytes)
            return false;
    }
    return true;
}

} // namespace

torch::Tensor stacked_bases(const std::array<torch::Tensor, 3> &bases)
{
    const int64_t n = bases[0].size(0);
    if (thirds_of_one_batch(bases)) // made stacked (NetworkImpl::level1_bases): no copy
        return bases[0].as_strided({3 * n, bases[0].size(1), bases[0].size(2), bases[0].size(3)}, bases[0].strides());
    auto batch = torch::empty({3 * n, bases[0].size(1), bases[0].size(2), bases[0].size(3)},
                              torch::dtype(torch::kFloat), at::MemoryFormat::ChannelsLast);
    for (int i = 0; i < 3; i++)
        batch.narrow(0, i * n, n).copy_(bases[i]);
    return batch;
}

void require_plain_conv(const std::string &name, const torch::nn::Conv2dImpl &conv)
{
    const auto &o = conv.options;
    if ((*o.stride())[0] != 1 || (*o.stride())[1] != 1 || (*o.dilation())[0] != 1 || (*o.dilation())[1] != 1 ||
        o.groups() != 1)
        throw std::runtime_error("convolution " + name + " is not a plain one (stride 1, no dilation, one group)");
}

std::array<torch::Tensor, 3> thirds(const torch::Tensor &batch)
{
    const auto parts = batch.split(batch.size(0) / 3, 0);
    return {parts[0], parts[1], parts[2]};
}

std::array<torch::Tensor, 3> ConvRunner::conv_onto_bases(torch::nn::Conv2dImpl &conv, const torch::Tensor &x,
                                                         const std::array<torch::Tensor, 3> &bases)
{
    auto decoded = leave(conv_to_float(conv, x)).split(bases[0].size(0), 0);
    // Promoted to the bases' type by the sum itself: no converted copy first.
    return {decoded[0] + bases[0], decoded[1] + bases[1], decoded[2] + bases[2]};
}

ResidualBlockImpl::ResidualBlockImpl(int64_t channels)
    : conv1(register_module("conv1", conv3x3(channels, channels))),
      conv2(register_module("conv2", conv3x3(channels, channels)))
{
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor &x)
{
    return conv2(leaky_(conv1(x))).add_(x);
}

torch::Tensor ResidualBlockImpl::run(ConvRunner &runner, const std::string &name, const torch::Tensor &x)
{
    auto inner = runner.conv_leaky(name + ".conv1", *conv1, x);
    return runner.conv_add(name, name + ".conv2", *conv2, inner, x);
}

SubModuleImpl::SubModuleImpl(int64_t in_channels, int64_t channels)
    : head(register_module("head", conv3x3(in_channels, channels))),
      block1(register_module("block1", ResidualBlock(channels))),
      block2(register_module("block2", ResidualBlock(channels)))
{
}

torch::Tensor SubModuleImpl::forward(const torch::Tensor &x)
{
    return block2(block1(head(x)));
}

torch::Tensor SubModuleImpl::run(ConvRunner &runner, const std::string &name, const torch::Tensor &x)
{
    auto y = block1->run(runner, name + ".block1", runner.conv(name + ".head", *head, x));
    return block2->run(runner, name + ".block2", y);
}

LevelImpl::LevelImpl(int64_t in_channels, const Architecture &arch)
{
    const int64_t w = arch.width, w2 = 2 * arch.width;
    encoder = register_module("encoder", nn::Sequential(SubModule(in_channels, w), SubModule(w, w2)));
    jdsr = register_module("jdsr", nn::Sequential(SubModule(w2, w2), SubModule(w2, w2), SubModule(w2, w2)));
    tfbfi = register_module("tfbfi", nn::Sequential(SubModule(w2, w2), SubModule(w2, w2)));
    offsets = register_module("offsets", conv3x3(w2, 2 * 2 * 9));
    warp = register_module("warp", DeformConv3x3(w2, w2));
    decoder = register_module("decoder", nn::Sequential(SubModule(w2, w), conv3x3(w, arch.map_channels())));

    // Zero offsets make the warp start as a plain convolution of f2^DSR.
    torch::NoGradGuard no_grad;
    offsets->weight.zero_();
    offsets->bias.zero_();
}

Maps3 LevelImpl::forward(const torch::Tensor &x, const Maps3 &base)
{
    // The convolutions run in the weights' type (fp32, or bf16 for speed); the
    // residual bases and the sums stay in theirs (fp32), so pictures keep 8-bit precision.
    auto features = encoder->forward(x.to(compute_type()));
    auto centre = jdsr->forward(features);           // f2^DSR
    auto fields = offsets(tfbfi->forward(features)); // (Phi_1, Phi_3)
    auto phi = fields.chunk(2, 1);
    auto first = warp(centre, phi[0]); // f1^DSR
    auto last = warp(centre, phi[1]);  // f3^DSR

    // The decoder is shared by the three outputs: run it once on a batch of three.
    const int64_t n = x.size(0);
    auto decoded = decoder->forward(torch::cat({first, centre, last}, 0)).split(n, 0);
    // Promoted to the bases' type by the sum itself: no converted copy first.
    auto sum = [&](int i) { return decoded[i] + base[i]; };
    return {sum(0), sum(1), sum(2)};
}

Maps3 LevelImpl::run(ConvRunner &runner, const std::string &name, const std::vector<torch::Tensor> &inputs,
                     const Maps3 &base)
{
    auto features = run_sequence(*encoder, runner, name + ".encoder", runner.enter_channels(name + ".input", inputs));
    auto centre = run_sequence(*jdsr, runner, name + ".jdsr", features);
    auto fields =
        runner.conv_float(name + ".offsets", *offsets, run_sequence(*tfbfi, runner, name + ".tfbfi", features));
    auto phi = fields.chunk(2, 1);
    auto three = runner.warp_three(name + ".decoder.input", *warp, centre, phi[0], phi[1]);

    // The decoder: a SubModule, then the convolution that gives the residuals.
    auto hidden = decoder->ptr<SubModuleImpl>(0)->run(runner, name + ".decoder.0", three);
    return runner.conv_onto_bases(*decoder->ptr<nn::Conv2dImpl>(1), hidden, base);
}

NetworkImpl::NetworkImpl(const Architecture &arch) : arch_(arch)
{
    dsfn1 = register_module("dsfn1", Level(3 * arch.colors, arch));
    if (arch.levels > 1)
        dsfn2 = register_module("dsfn2", Level(5 * arch.map_channels(), arch));
}

torch::Tensor NetworkImpl::repeat_channels(const torch::Tensor &image) const
{
    return image.repeat_interleave(arch_.scale * arch_.scale, 1);
}

Maps3 NetworkImpl::level1_bases(const std::array<torch::Tensor, 3> &images) const
{
    if (torch::GradMode::is_enabled())
        return {repeat_channels(images[0]), repeat_channels(images[1]), repeat_channels(images[2])};
    // Inference: the same values written channels-last, the layout of the
    // convolutions' outputs they are added to, as the thirds of one batch: a
    // runner that adds the residuals onto the stacked bases in the convolution's
    // pass (ConvRunner::conv_onto_bases) takes this batch as it is.
    const int64_t repeats = arch_.scale * arch_.scale;
    const int64_t n = images[0].size(0), c = images[0].size(1), h = images[0].size(2), w = images[0].size(3);
    auto batch = torch::empty({3 * n, c * repeats, h, w}, images[0].options().dtype(torch::kFloat),
                              at::MemoryFormat::ChannelsLast);
    Maps3 bases;
    for (int i = 0; i < 3; i++) {
        bases[i] = batch.narrow(0, i * n, n);
        bases[i]
            .permute({0, 2, 3, 1})
            .view({n, h, w, c, repeats})
            .copy_(images[i].permute({0, 2, 3, 1}).unsqueeze(4).expand({n, h, w, c, repeats}));
    }
    return bases;
}

torch::Tensor NetworkImpl::to_image(const torch::Tensor &map) const
{
    return torch::pixel_shuffle(map, arch_.scale);
}

Level1Maps NetworkImpl::level1(const torch::Tensor &b0, const torch::Tensor &b1, const torch::Tensor &b2)
{
    const Maps3 base = level1_bases({(b0 + b1) * 0.5, b1, (b1 + b2) * 0.5});
    return run_level(dsfn1, "dsfn1", {b0, b1, b2}, base);
}

Maps3 NetworkImpl::run_level(Level &level, const char *name, const std::vector<torch::Tensor> &inputs,
                             const Maps3 &base)
{
    if (runner_)
        return level->run(*runner_, name, inputs, base);
    if (torch::GradMode::is_enabled())
        return level->forward(torch::cat(inputs, 1), base);
    // Inference: each part in the convolutions' type and layout first, so that
    // the concatenation is the only copy of the whole, not a float32 one that is
    // then converted and reordered.
    std::vector<torch::Tensor> parts;
    for (const auto &part : inputs)
        parts.push_back(part.to(level->compute_type()).contiguous(at::MemoryFormat::ChannelsLast));
    return level->forward(torch::cat(parts, 1), base);
}

std::array<torch::Tensor, 5> NetworkImpl::merge_level1(const Level1Maps &a, const Level1Maps &b)
{
    // Both triples predict the in-between of their shared frames: average them.
    return {a[0], a[1], (a[2] + b[0]) * 0.5, b[1], b[2]};
}

Maps3 NetworkImpl::level2(const Level1Maps &a, const Level1Maps &b)
{
    auto five = merge_level1(a, b);
    if (!dsfn2)
        return {five[1], five[2], five[3]};
    return run_level(dsfn2, "dsfn2", {five[0], five[1], five[2], five[3], five[4]}, {five[1], five[2], five[3]});
}

void NetworkImpl::zero_residuals()
{
    torch::NoGradGuard no_grad;
    for (auto &p : named_parameters())
        if (p.key().find(".decoder.1.") != std::string::npos)
            p.value().zero_();
}

int64_t NetworkImpl::parameter_count() const
{
    int64_t count = 0;
    for (const auto &p : parameters())
        count += p.numel();
    return count;
}

} // namespace dsfn
