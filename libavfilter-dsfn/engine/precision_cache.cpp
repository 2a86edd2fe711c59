#include "engine/precision_cache.h"

#include <torch/version.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace dsfn {

namespace {

constexpr size_t kMaxLines = 32; // machines x models a user has: plenty

// "KEY\tPRECISION\tSPEEDUP" -> its three fields; false when it is not that.
bool split_line(const std::string &line, std::string &key, CachedPrecision &value)
{
    const size_t a = line.find('\t');
    const size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos || line.find('\t', b + 1) != std::string::npos)
        return false;
    key = line.substr(0, a);
    value.precision = line.substr(a + 1, b - a - 1);
    const std::string number = line.substr(b + 1);
    char *end = nullptr;
    value.speedup = std::strtod(number.c_str(), &end);
    return !key.empty() && !value.precision.empty() && !number.empty() && end && *end == '\0' && value.speedup > 0 &&
           value.speedup < 1000;
}

std::vector<std::string> read_lines(const std::string &path)
{
    std::vector<std::string> lines;
    std::ifstream in(path);
    std::string line;
    while (in && std::getline(in, line) && lines.size() < 4 * kMaxLines)
        lines.push_back(line);
    return lines;
}

// mkdir -p of the folder holding path.
bool make_parent_folders(const std::string &path)
{
    for (size_t at = path.find('/', 1); at != std::string::npos; at = path.find('/', at + 1))
        if (mkdir(path.substr(0, at).c_str(), 0755) != 0 && errno != EEXIST)
            return false;
    return true;
}

// No tabs or line breaks inside a field.
std::string one_field(std::string text)
{
    for (char &c : text)
        if (c == '\t' || c == '\n' || c == '\r')
            c = ' ';
    return text;
}

std::string cpuinfo_value(const std::string &cpuinfo, const std::string &name)
{
    std::istringstream in(cpuinfo);
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, name.size(), name) != 0)
            continue;
        const size_t colon = line.find(':');
        if (colon == std::string::npos || line.find_first_not_of(" \t", name.size()) != colon)
            continue;
        const size_t value = line.find_first_not_of(' ', colon + 1);
        return value == std::string::npos ? "" : line.substr(value);
    }
    return "";
}

} // namespace

std::string PrecisionCache::default_path()
{
    const char *xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')
        return std::string(xdg) + "/vf_dsfn/precision-auto";
    const char *home = std::getenv("HOME");
    if (home && home[0] == '/')
        return std::string(home) + "/.cache/vf_dsfn/precision-auto";
    return "";
}

std::optional<CachedPrecision> PrecisionCache::find(const std::string &key) const
{
    if (path_.empty())
        return std::nullopt;
    std::optional<CachedPrecision> found;
    std::string k;
    CachedPrecision value;
    for (const auto &line : read_lines(path_))
        if (split_line(line, k, value) && k == one_field(key))
            found = value;
    return found;
}

bool PrecisionCache::store(const std::string &key, const CachedPrecision &value) const
{
    if (path_.empty() || !make_parent_folders(path_))
        return false;
    std::vector<std::string> kept;
    std::string k;
    CachedPrecision v;
    for (const auto &line : read_lines(path_))
        if (split_line(line, k, v) && k != one_field(key))
            kept.push_back(line);
    if (kept.size() >= kMaxLines)
        kept.erase(kept.begin(), kept.end() - (kMaxLines - 1));
    char speedup[32];
    std::snprintf(speedup, sizeof(speedup), "%.3f", value.speedup);
    kept.push_back(one_field(key) + '\t' + one_field(value.precision) + '\t' + speedup);

    const std::string temporary = path_ + ".new." + std::to_string(getpid());
    {
        std::ofstream out(temporary, std::ios::trunc);
        for (const auto &line : kept)
            out << line << '\n';
        out.flush();
        if (!out) {
            std::remove(temporary.c_str());
            return false;
        }
    }
    if (std::rename(temporary.c_str(), path_.c_str()) != 0) {
        std::remove(temporary.c_str());
        return false;
    }
    return true;
}

std::string machine_key()
{
    std::ifstream in("/proc/cpuinfo");
    std::stringstream text;
    text << in.rdbuf();
    const std::string cpuinfo = text.str();
    const std::string flags = cpuinfo_value(cpuinfo, "flags");
    uint64_t hash = 14695981039346656037ull; // FNV-1a: the same on every build
    for (unsigned char c : flags)
        hash = (hash ^ c) * 1099511628211ull;
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
    std::string model = cpuinfo_value(cpuinfo, "model name");
    return "cpu " + (model.empty() ? std::string("unknown") : model) + " flags " + hex + " libtorch " +
           std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
           std::to_string(TORCH_VERSION_PATCH);
}

} // namespace dsfn
