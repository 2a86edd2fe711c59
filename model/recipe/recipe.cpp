// WEIGHTS.recipe lines: read, change, write (see recipe.h).
#include "recipe/recipe.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dsfn {

namespace {

constexpr std::string_view kSeparator = ": ";

} // namespace

std::string Recipe::path_for(const std::string &weights_path)
{
    return weights_path + ".recipe";
}

std::optional<Recipe> Recipe::read(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str());
}

Recipe Recipe::parse(const std::string &text)
{
    Recipe r;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        r.lines_.push_back(line);
    return r;
}

size_t Recipe::find(std::string_view key) const
{
    for (size_t i = 0; i < lines_.size(); i++) {
        const std::string_view line = lines_[i];
        if (line.size() >= key.size() + kSeparator.size() && line.substr(0, key.size()) == key &&
            line.substr(key.size(), kSeparator.size()) == kSeparator)
            return i;
    }
    return lines_.size();
}

std::optional<std::string> Recipe::get(std::string_view key) const
{
    const size_t i = find(key);
    if (i == lines_.size())
        return std::nullopt;
    return lines_[i].substr(key.size() + kSeparator.size());
}

void Recipe::set(std::string_view key, const std::string &value)
{
    std::string line = std::string(key) + std::string(kSeparator) + value;
    const size_t i = find(key);
    if (i == lines_.size())
        lines_.push_back(std::move(line));
    else
        lines_[i] = std::move(line);
}

void Recipe::erase(std::string_view key)
{
    const std::string prefix = std::string(key) + std::string(kSeparator);
    const std::string comment = "# " + prefix;
    lines_.erase(std::remove_if(lines_.begin(), lines_.end(),
                                [&](const std::string &line) {
                                    return line.rfind(prefix, 0) == 0 || line.rfind(comment, 0) == 0;
                                }),
                 lines_.end());
}

void Recipe::add_line(const std::string &line)
{
    // A value with line breaks becomes several lines, as a reader would see them.
    const Recipe more = parse(line);
    lines_.insert(lines_.end(), more.lines_.begin(), more.lines_.end());
    if (more.lines_.empty())
        lines_.emplace_back();
}

void Recipe::add_lines(const Recipe &other)
{
    lines_.insert(lines_.end(), other.lines_.begin(), other.lines_.end());
}

std::string Recipe::text() const
{
    std::string text;
    for (const auto &line : lines_)
        text += line + "\n";
    return text;
}

void Recipe::write(const std::string &path) const
{
    std::ofstream out(path);
    out << text();
    if (!out)
        throw std::runtime_error(path + ": cannot write");
}

} // namespace dsfn
