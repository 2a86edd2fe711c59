// WEIGHTS.recipe: the text file beside a weights file that says how it was made.
// Lines of "key: value" that the trainer (--init) and dsfn-tool read back, and
// lines for people ("# ..." comments, indented continuations) kept as they are.
// The lines keep their order, so a recipe read and written again is the same
// text. scripts/train/next-cycle.sh and scripts/accelerator/accelerator-run.sh read the
// "command" and "steps done" keys with sed: the format is plain on purpose.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsfn {

// The keys programs read back (other lines are for people).
namespace recipe_key {
inline constexpr std::string_view kStepsDone = "steps done";
inline constexpr std::string_view kClipsFrom = "clips from step";
inline constexpr std::string_view kSchedule = "schedule";
inline constexpr std::string_view kWallTime = "wall time";
inline constexpr std::string_view kFinalLoss = "final loss";
inline constexpr std::string_view kCommand = "command";
inline constexpr std::string_view kWidth = "width";
inline constexpr std::string_view kParameters = "parameters";
// The precisions make eval found within 0.05 dB of fp32 (scripts/eval/eval-precisions.sh),
// which precision=auto may run: true of these weights only, never of a model made from them.
inline constexpr std::string_view kPrecisions = "precisions";
} // namespace recipe_key

class Recipe {
public:
    // WEIGHTS.recipe for WEIGHTS.
    static std::string path_for(const std::string &weights_path);
    // The recipe at path; none when there is no such file (weights made by hand).
    static std::optional<Recipe> read(const std::string &path);
    static Recipe parse(const std::string &text);

    // The value of the first "key: value" line.
    std::optional<std::string> get(std::string_view key) const;
    // Replaces the value of the first line with this key, or appends the line.
    void set(std::string_view key, const std::string &value);
    // Removes every "key: ..." line, and the comments "# key: ..." that explain it.
    void erase(std::string_view key);
    // Appends a line as it is: a comment, a continuation, or a whole recipe's lines.
    void add_line(const std::string &line);
    void add_lines(const Recipe &other);

    std::string text() const;
    // Writes text() to path; throws std::runtime_error when it cannot.
    void write(const std::string &path) const;

private:
    // The index of the first line "key: ...", or lines_.size().
    size_t find(std::string_view key) const;
    std::vector<std::string> lines_;
};

} // namespace dsfn
