// Random-weights model files for the unit tests (not trained models).
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "net/dsfn_net.h"
#include "tests.h"
#include "net/weights_file.h"

namespace {

std::vector<unsigned char> read_all(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

} // namespace

extern "C" const char *fixture_model(int width)
{
    static std::map<int, std::string> paths;
    auto it = paths.find(width);
    if (it != paths.end())
        return it->second.c_str();
    const std::string path = "fixture-w" + std::to_string(width) + ".dsfn";
    torch::manual_seed(width);
    dsfn::Architecture arch;
    arch.width = width;
    dsfn::Network net(arch);
    dsfn::save_weights(path, *net, dsfn::Storage::Float16);
    return paths.emplace(width, path).first->second.c_str();
}

extern "C" int fixture_write_bytes(const char *path, const void *data, size_t size)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char *>(data), static_cast<std::streamsize>(size));
    return out.good() ? 0 : -1;
}

extern "C" const char *fixture_edited_model(const char *name, void (*edit)(unsigned char *, size_t))
{
    static std::map<std::string, std::string> paths;
    auto bytes = read_all(fixture_model(4));
    edit(bytes.data(), bytes.size());
    const size_t body = bytes.size() - 8;
    const uint64_t h = dsfn::weights_checksum(bytes.data(), body);
    for (int i = 0; i < 8; i++)
        bytes[body + i] = static_cast<unsigned char>(h >> (8 * i));
    const std::string path = std::string(name) + ".dsfn";
    fixture_write_bytes(path.c_str(), bytes.data(), bytes.size());
    return paths.emplace(name, path).first->second.c_str();
}
