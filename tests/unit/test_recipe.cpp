// The recipe beside a weights file: keys read and replaced in place, lines for
// people kept as they are, a missing file told apart from an empty one.
#include <filesystem>
#include <fstream>

#include "recipe/recipe.h"
#include "tests.h"

namespace {

namespace key = dsfn::recipe_key;

const char *const kText = "# How w.dsfn was trained\n"
                          "steps done: 2600\n"
                          "schedule: 0-2600 lr 0.002\n"
                          "wall time: 1.40 h (2-core CPU)\n"
                          "# For people:\n"
                          "data: photos, synthetic motion\n"
                          "      and a second line about them\n"
                          "width: 16\n";

START_TEST(test_keys_and_people_lines)
{
    auto r = dsfn::Recipe::parse(kText);
    ck_assert(r.text() == kText); // read and written again: the same text
    ck_assert(r.get(key::kStepsDone) == "2600");
    ck_assert(r.get(key::kWallTime) == "1.40 h (2-core CPU)");
    ck_assert(r.get(key::kWidth) == "16");
    ck_assert(!r.get(key::kCommand));
    ck_assert(!r.get("steps")); // a key is a whole key, not a prefix
    ck_assert(!r.get("# How w.dsfn was trained"));

    r.set(key::kWidth, "32");      // in place
    r.set(key::kCommand, "--x 1"); // appended
    const std::string text = r.text();
    ck_assert(text.find("width: 32\ncommand: --x 1\n") != std::string::npos);
    ck_assert(text.find("width: 16") == std::string::npos);
    ck_assert(text.find("      and a second line about them\n") != std::string::npos);

    // erase: the key's lines and the comments about it, nothing else.
    auto p = dsfn::Recipe::parse("# precisions: why\nprecisions: fp32 bf16\nwidth: 16\n# other\nprecisions: x\n"
                                 "precisions and more: kept\n");
    p.erase(key::kPrecisions);
    ck_assert(p.text() == "width: 16\n# other\nprecisions and more: kept\n");

    dsfn::Recipe more;
    more.add_line("# first\nsecond: 2");
    ck_assert(more.text() == "# first\nsecond: 2\n");
    ck_assert(more.get("second") == "2");
}
END_TEST

START_TEST(test_files)
{
    const std::string weights = "recipe-test.dsfn", path = dsfn::Recipe::path_for(weights);
    ck_assert(path == "recipe-test.dsfn.recipe");
    std::filesystem::remove(path);
    ck_assert(!dsfn::Recipe::read(path)); // no file: no recipe
    dsfn::Recipe::parse(kText).write(path);
    const auto back = dsfn::Recipe::read(path);
    ck_assert(back && back->text() == kText);
    {
        std::ofstream empty(path);
    }
    const auto empty = dsfn::Recipe::read(path); // an empty file is an empty recipe
    ck_assert(empty && empty->text().empty());
    std::filesystem::remove(path);
    bool threw = false;
    try {
        dsfn::Recipe::parse(kText).write("no-such-folder/x.recipe");
    } catch (const std::runtime_error &) {
        threw = true;
    }
    ck_assert(threw);
}
END_TEST

} // namespace

extern "C" Suite *recipe_suite(void)
{
    Suite *s = suite_create("recipe");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_keys_and_people_lines);
    tcase_add_test(tc, test_files);
    suite_add_tcase(s, tc);
    return s;
}
