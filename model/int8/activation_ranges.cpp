#include "int8/activation_ranges.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "net/weights_file.h"

namespace dsfn {

namespace {

constexpr const char *kMagic = "dsfn-int8";
constexpr int kVersion = 1;
// Far beyond any activation of the network, and small enough that a scale made
// from it is a normal number.
constexpr double kLargest = 1e6;

[[noreturn]] void fail(const std::string &path, int line, const std::string &what)
{
    throw std::runtime_error(path + (line > 0 ? " line " + std::to_string(line) : "") + ": " + what);
}

} // namespace

std::string int8_ranges_path(const std::string &weights_path)
{
    return weights_path + ".int8";
}

std::string weights_digest(const std::string &weights_path)
{
    std::ifstream in(weights_path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + weights_path + ": " + std::strerror(errno));
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        throw std::runtime_error("cannot read " + weights_path + ": read error");
    std::ostringstream hex;
    hex << std::hex << std::setw(16) << std::setfill('0') << weights_checksum(bytes.data(), bytes.size());
    return hex.str();
}

ActivationRanges parse_activation_ranges(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        fail(path, 0, std::strerror(errno));
    ActivationRanges ranges;
    std::string text;
    int number = 0;
    bool header = false;
    while (std::getline(in, text)) {
        number++;
        if (text.empty() || text[0] == '#')
            continue;
        std::istringstream line(text);
        std::string key;
        line >> key;
        if (!header) {
            int version = 0;
            if (key != kMagic || !(line >> version))
                fail(path, number, "not a dsfn int8 ranges file (it must start with \"dsfn-int8 1\")");
            if (version != kVersion)
                fail(path, number,
                     "int8 ranges version " + std::to_string(version) + ", this build reads " +
                         std::to_string(kVersion));
            header = true;
            continue;
        }
        if (key == "weights") {
            if (!(line >> ranges.weights_digest) || ranges.weights_digest.size() != 16)
                fail(path, number, "the weights digest must be 16 hex digits");
            continue;
        }
        ValueRange range;
        std::string rest;
        if (!(line >> range.lo >> range.hi) || (line >> rest) || !(std::fabs(range.lo) <= kLargest) ||
            !(std::fabs(range.hi) <= kLargest) || range.lo > range.hi)
            fail(path, number, "expected \"POINT LOW HIGH\" with LOW <= HIGH, both within +-1e6");
        if (!ranges.points.emplace(key, range).second)
            fail(path, number, "point " + key + " given twice");
    }
    if (in.bad())
        fail(path, 0, "read error");
    if (!header)
        fail(path, 0, "empty: not a dsfn int8 ranges file");
    if (ranges.weights_digest.empty())
        fail(path, 0, "no \"weights\" line");
    return ranges;
}

ActivationRanges read_activation_ranges(const std::string &path, const std::string &weights_path)
{
    if (access(path.c_str(), R_OK) != 0)
        fail(path, 0,
             std::string(std::strerror(errno)) + " (precision int8 needs the activation ranges of " + weights_path +
                 " beside it; `dsfn-tool quantize` measures them)");
    auto ranges = parse_activation_ranges(path);
    if (ranges.weights_digest != weights_digest(weights_path))
        fail(path, 0, "measured on other weights than " + weights_path + " (run `dsfn-tool quantize` again)");
    return ranges;
}

void write_activation_ranges(const std::string &path, const ActivationRanges &ranges, const std::string &comment)
{
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary);
        if (!out)
            throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(errno));
        std::istringstream lines(comment);
        for (std::string line; std::getline(lines, line);)
            out << "# " << line << "\n";
        out << kMagic << " " << kVersion << "\n";
        out << "weights " << ranges.weights_digest << "\n";
        out << std::setprecision(9);
        for (const auto &[point, range] : ranges.points)
            out << point << " " << range.lo << " " << range.hi << "\n";
        if (!out.flush())
            throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(errno));
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        std::remove(temporary.c_str());
        throw std::runtime_error("cannot rename " + temporary + " to " + path + ": " + std::strerror(error));
    }
}

} // namespace dsfn
