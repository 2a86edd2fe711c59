#include "net/weights_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace dsfn {

namespace {

constexpr char kMagic[8] = {'D', 'S', 'F', 'N', 'W', 'G', 'T', 'S'};
constexpr uint64_t kMaxFileSize = uint64_t(1) << 32; // far above any sane model
constexpr uint32_t kMaxWidth = 1024, kMaxScale = 8, kMaxLevels = 2, kMaxRank = 8, kMaxName = 256;

std::string shape_string(const std::vector<int64_t> &dims)
{
    std::ostringstream s;
    s << '[';
    for (size_t i = 0; i < dims.size(); i++)
        s << (i ? "x" : "") << dims[i];
    s << ']';
    return s.str();
}

class Writer {
public:
    template <typename T>
    void put(T v)
    {
        for (size_t i = 0; i < sizeof(T); i++)
            bytes.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
    }
    void put_bytes(const void *p, size_t n)
    {
        auto b = static_cast<const uint8_t *>(p);
        bytes.insert(bytes.end(), b, b + n);
    }
    std::vector<uint8_t> bytes;
};

// Bounds-checked reader: every read past the end is reported as truncation.
class Reader {
public:
    Reader(const std::string &path, const uint8_t *bytes, size_t end) : path_(path), bytes_(bytes), end_(end) {}
    template <typename T>
    T get(const char *what)
    {
        need(sizeof(T), what);
        uint64_t v = 0;
        for (size_t i = 0; i < sizeof(T); i++)
            v |= uint64_t(bytes_[pos_ + i]) << (8 * i);
        pos_ += sizeof(T);
        return static_cast<T>(v);
    }
    const uint8_t *take(size_t n, const char *what)
    {
        need(n, what);
        const uint8_t *p = bytes_ + pos_;
        pos_ += n;
        return p;
    }
    size_t position() const { return pos_; }

private:
    void need(size_t n, const char *what)
    {
        if (n > end_ - pos_)
            throw WeightsError(EINVAL, path_ + ": truncated or corrupt weights file (ends inside " + what + ")");
    }
    const std::string &path_;
    const uint8_t *bytes_;
    size_t end_, pos_ = 0;
};

std::vector<uint8_t> read_file(const std::string &path)
{
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
        throw WeightsError(errno, path + ": cannot open model file: " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        throw WeightsError(EINVAL, path + ": model path is not a regular file");
    if (st.st_size == 0)
        throw WeightsError(EINVAL, path + ": model file is empty");
    if (uint64_t(st.st_size) > kMaxFileSize)
        throw WeightsError(EINVAL, path + ": model file is too large to be a DSFN weights file");

    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw WeightsError(errno ? errno : EIO, path + ": cannot open model file: " + std::strerror(errno));
    std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
    in.read(reinterpret_cast<char *>(bytes.data()), st.st_size);
    if (in.gcount() != st.st_size)
        throw WeightsError(EIO, path + ": read error on model file");
    return bytes;
}

// Parameters of an architecture, without building it: every layer's channel
// count is affine in the width, so the count is a quadratic in the width,
// fixed by three tiny networks. A corrupt header asking for width 1000 is
// then refused before gigabytes are allocated.
int64_t parameter_count_of(const Architecture &arch)
{
    int64_t p[3];
    for (int i = 0; i < 3; i++) {
        Architecture small = arch;
        small.width = i + 1;
        p[i] = Network(small)->parameter_count();
    }
    const int64_t w = arch.width;
    return p[0] + (w - 1) * (p[1] - p[0]) + (w - 1) * (w - 2) / 2 * (p[2] - 2 * p[1] + p[0]);
}

} // namespace

uint64_t weights_checksum(const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ull; // FNV-1a
    for (size_t i = 0; i < size; i++) {
        h ^= data[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void save_weights(const std::string &path, const NetworkImpl &net, Storage storage)
{
    const Architecture &arch = net.architecture();
    const auto params = net.named_parameters(true);

    Writer w;
    w.put_bytes(kMagic, sizeof(kMagic));
    w.put<uint32_t>(kWeightsFormatVersion);
    const size_t size_at = w.bytes.size();
    w.put<uint64_t>(0); // file size, filled in below
    w.put<uint32_t>(arch.width);
    w.put<uint32_t>(arch.scale);
    w.put<uint32_t>(arch.levels);
    w.put<uint32_t>(arch.colors);
    w.put<uint32_t>(params.size());
    for (const auto &item : params) {
        const auto &name = item.key();
        auto t = item.value().detach().to(torch::kCPU).contiguous();
        t = (storage == Storage::Float16 ? t.to(torch::kHalf) : t.to(torch::kFloat)).contiguous();
        w.put<uint32_t>(name.size());
        w.put_bytes(name.data(), name.size());
        w.put<uint8_t>(static_cast<uint8_t>(storage));
        w.put<uint8_t>(t.dim());
        for (int64_t d : t.sizes())
            w.put<uint64_t>(d);
        w.put_bytes(t.data_ptr(), t.numel() * t.element_size());
    }
    const uint64_t total = w.bytes.size() + sizeof(uint64_t);
    for (size_t i = 0; i < 8; i++)
        w.bytes[size_at + i] = static_cast<uint8_t>(total >> (8 * i));
    w.put<uint64_t>(weights_checksum(w.bytes.data(), w.bytes.size()));

    // Write to a temporary name first so an interrupted save never leaves a
    // half-written file under the real name.
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char *>(w.bytes.data()), w.bytes.size());
        out.close();
        if (!out)
            throw WeightsError(EIO, tmp + ": cannot write weights file");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw WeightsError(errno, path + ": cannot rename weights file: " + std::strerror(errno));
}

Network load_weights(const std::string &path)
{
    const std::vector<uint8_t> bytes = read_file(path);
    return parse_weights(bytes.data(), bytes.size(), path);
}

Network parse_weights(const uint8_t *data, size_t size, const std::string &path)
{
    if (size == 0)
        throw WeightsError(EINVAL, path + ": model file is empty");
    if (size < sizeof(kMagic) || std::memcmp(data, kMagic, sizeof(kMagic)) != 0)
        throw WeightsError(EINVAL, path + ": not a DSFN weights file (bad magic)");
    Reader head(path, data, size);
    head.take(sizeof(kMagic), "magic");
    const auto version = head.get<uint32_t>("format version");
    if (version != kWeightsFormatVersion)
        throw WeightsError(ENOTSUP, path + ": unsupported weights format version " + std::to_string(version) +
                                        " (this build reads version " + std::to_string(kWeightsFormatVersion) + ")");
    const auto declared = head.get<uint64_t>("file size");
    if (declared != size)
        throw WeightsError(EINVAL, path + ": truncated or corrupt weights file (" + std::to_string(size) +
                                       " bytes, header says " + std::to_string(declared) + ")");
    if (size < sizeof(kMagic) + sizeof(uint32_t) + 2 * sizeof(uint64_t))
        throw WeightsError(EINVAL, path + ": truncated or corrupt weights file (" + std::to_string(size) + " bytes)");
    const size_t body = size - sizeof(uint64_t);
    Reader tail(path, data, size);
    tail.take(body, "body");
    if (tail.get<uint64_t>("checksum") != weights_checksum(data, body))
        throw WeightsError(EINVAL, path + ": corrupt weights file (checksum mismatch)");

    Reader r(path, data, body);
    r.take(sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t), "header");
    Architecture arch;
    arch.width = r.get<uint32_t>("header");
    arch.scale = r.get<uint32_t>("header");
    arch.levels = r.get<uint32_t>("header");
    arch.colors = r.get<uint32_t>("header");
    if (arch.width < 1 || arch.width > kMaxWidth || arch.scale < 1 || arch.scale > kMaxScale || arch.levels < 1 ||
        arch.levels > kMaxLevels || arch.colors != 3)
        throw WeightsError(EINVAL, path + ": unsupported architecture (width " + std::to_string(arch.width) +
                                       ", scale " + std::to_string(arch.scale) + ", levels " +
                                       std::to_string(arch.levels) + ", colors " + std::to_string(arch.colors) + ")");

    const int64_t params = parameter_count_of(arch);
    if (uint64_t(params) * 2 > body)
        throw WeightsError(EINVAL, path + ": truncated or corrupt weights file (" + std::to_string(size) +
                                       " bytes cannot hold the " + std::to_string(params) + " parameters of width " +
                                       std::to_string(arch.width) + ")");

    Network net(arch);
    std::map<std::string, torch::Tensor> expected;
    for (const auto &item : net->named_parameters(true))
        expected.emplace(item.key(), item.value());

    const auto count = r.get<uint32_t>("header");
    torch::NoGradGuard no_grad;
    for (uint32_t i = 0; i < count; i++) {
        const auto name_len = r.get<uint32_t>("tensor name");
        if (name_len == 0 || name_len > kMaxName)
            throw WeightsError(EINVAL,
                               path + ": corrupt weights file (tensor name length " + std::to_string(name_len) + ")");
        const auto *name_p = r.take(name_len, "tensor name");
        const std::string name(reinterpret_cast<const char *>(name_p), name_len);
        const auto storage = r.get<uint8_t>("tensor header");
        if (storage > static_cast<uint8_t>(Storage::Float16))
            throw WeightsError(EINVAL,
                               path + ": tensor " + name + " has unknown storage type " + std::to_string(storage));
        const auto rank = r.get<uint8_t>("tensor header");
        if (rank > kMaxRank)
            throw WeightsError(EINVAL, path + ": tensor " + name + " has rank " + std::to_string(rank));
        std::vector<int64_t> dims(rank);
        for (auto &d : dims)
            d = static_cast<int64_t>(r.get<uint64_t>("tensor header"));

        auto it = expected.find(name);
        if (it == expected.end())
            throw WeightsError(EINVAL, path + ": unexpected tensor " + name + " for this architecture");
        if (it->second.sizes().vec() != dims)
            throw WeightsError(EINVAL, path + ": tensor " + name + " has shape " + shape_string(dims) +
                                           ", the architecture needs " + shape_string(it->second.sizes().vec()));
        const auto type = storage == static_cast<uint8_t>(Storage::Float16) ? torch::kHalf : torch::kFloat;
        const size_t nbytes = it->second.numel() * (type == torch::kHalf ? 2 : 4);
        const auto *stored = r.take(nbytes, "tensor data");
        auto src = torch::from_blob(const_cast<uint8_t *>(stored), it->second.sizes(), torch::TensorOptions(type));
        it->second.copy_(src.to(torch::kFloat));
        expected.erase(it);
    }
    if (!expected.empty())
        throw WeightsError(EINVAL, path + ": weights file lacks tensor " + expected.begin()->first + " (and " +
                                       std::to_string(expected.size() - 1) + " more)");
    if (r.position() != body)
        throw WeightsError(EINVAL, path + ": corrupt weights file (trailing bytes after the tensors)");
    net->eval();
    return net;
}

} // namespace dsfn
