// Weights file: round trip, and a clear error naming the file for every defect.
#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests.h"
#include "tools/weights_average.h"
#include "net/weights_file.h"

namespace {

std::vector<unsigned char> bytes_of(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

// Loading must fail with this errno and a message holding the path and `what`.
void expect_error(const std::string &path, int code, const std::string &what)
{
    try {
        dsfn::load_weights(path);
    } catch (const dsfn::WeightsError &e) {
        const std::string msg = e.what();
        ck_assert_msg(e.code() == code, "%s: code %d, expected %d", msg.c_str(), e.code(), code);
        ck_assert_msg(msg.find(path) != std::string::npos, "message lacks the path: %s", msg.c_str());
        ck_assert_msg(msg.find(what) != std::string::npos, "message '%s' lacks '%s'", msg.c_str(), what.c_str());
        return;
    }
    ck_abort_msg("%s loaded without error", path.c_str());
}

void set_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = static_cast<unsigned char>(v >> (8 * i));
}

// Header fields: magic 8, version 4, size 8, then width, scale, levels, colors.
void edit_version(unsigned char *b, size_t)
{
    set_u32(b + 8, 99);
}
void edit_width(unsigned char *b, size_t)
{
    set_u32(b + 20, 3);
}
void edit_huge_width(unsigned char *b, size_t)
{
    set_u32(b + 20, 1000);
}
void edit_scale(unsigned char *b, size_t)
{
    set_u32(b + 24, 0);
}
void edit_name(unsigned char *b, size_t)
{
    b[40 + 4] = 'X';
} // first tensor's name

} // namespace

START_TEST(test_round_trip)
{
    torch::manual_seed(5);
    dsfn::Architecture arch;
    arch.width = 3;
    dsfn::Network net(arch);
    dsfn::save_weights("roundtrip.dsfn", *net, dsfn::Storage::Float32);
    auto back = dsfn::load_weights("roundtrip.dsfn");
    ck_assert(back->architecture() == arch);
    auto a = net->parameters(), b = back->parameters();
    ck_assert_int_eq(a.size(), b.size());
    for (size_t i = 0; i < a.size(); i++)
        ck_assert(torch::equal(a[i], b[i]));

    dsfn::save_weights("roundtrip16.dsfn", *net, dsfn::Storage::Float16);
    auto half = dsfn::load_weights("roundtrip16.dsfn");
    auto c = half->parameters();
    for (size_t i = 0; i < a.size(); i++)
        ck_assert((a[i] - c[i]).abs().max().item<double>() < 1e-3);
}
END_TEST

START_TEST(test_file_errors)
{
    expect_error("no-such-model.dsfn", ENOENT, "cannot open");
    expect_error(".", EINVAL, "not a regular file");
    fixture_write_bytes("empty.dsfn", "", 0);
    expect_error("empty.dsfn", EINVAL, "empty");
    fixture_write_bytes("text.dsfn", "hello, this is not a model\n", 27);
    expect_error("text.dsfn", EINVAL, "not a DSFN weights file");
}
END_TEST

START_TEST(test_truncated)
{
    const auto good = bytes_of(fixture_model(4));
    const size_t cuts[] = {3, 8, 12, 20, 40, 45, 100, good.size() / 2, good.size() - 9, good.size() - 1};
    for (size_t cut : cuts) {
        fixture_write_bytes("cut.dsfn", good.data(), cut);
        expect_error("cut.dsfn", EINVAL, cut < 8 ? "not a DSFN weights file" : "truncated");
    }
}
END_TEST

START_TEST(test_corrupt)
{
    auto bytes = bytes_of(fixture_model(4));
    bytes[bytes.size() / 2] ^= 0x40;
    fixture_write_bytes("flipped.dsfn", bytes.data(), bytes.size());
    expect_error("flipped.dsfn", EINVAL, "checksum");

    std::vector<unsigned char> noise(4096);
    uint32_t x = 12345;
    for (auto &v : noise)
        v = static_cast<unsigned char>((x = x * 1103515245u + 12345u) >> 16);
    fixture_write_bytes("noise.dsfn", noise.data(), noise.size());
    expect_error("noise.dsfn", EINVAL, "not a DSFN weights file");
}
END_TEST

START_TEST(test_version_and_architecture)
{
    expect_error(fixture_edited_model("version99", edit_version), ENOTSUP, "unsupported weights format version 99");
    expect_error(fixture_edited_model("width3", edit_width), EINVAL, "has shape");
    // Refused from the header alone, before a 1000-wide network is allocated.
    expect_error(fixture_edited_model("width1000", edit_huge_width), EINVAL, "cannot hold the");
    expect_error(fixture_edited_model("scale0", edit_scale), EINVAL, "unsupported architecture");
    expect_error(fixture_edited_model("badname", edit_name), EINVAL, "unexpected tensor");
}
END_TEST

// dsfn-tool average: each parameter is the mean of the files'; other architectures are refused.
START_TEST(test_average)
{
    dsfn::Architecture arch;
    arch.width = 3;
    std::vector<std::vector<torch::Tensor>> params;
    for (int seed : {5, 6, 7}) {
        torch::manual_seed(seed);
        dsfn::Network net(arch);
        dsfn::save_weights("average" + std::to_string(seed) + ".dsfn", *net, dsfn::Storage::Float32);
        params.push_back(net->parameters());
    }
    auto mean = dsfn::average_weights({"average5.dsfn", "average6.dsfn", "average7.dsfn"});
    ck_assert(mean->architecture() == arch);
    const auto got = mean->parameters();
    for (size_t i = 0; i < got.size(); i++) {
        const auto expected = (params[0][i] + params[1][i] + params[2][i]) / 3;
        ck_assert_msg(torch::allclose(got[i], expected, 1e-5, 1e-6), "parameter %zu", i);
    }

    arch.width = 4;
    dsfn::Network wider(arch);
    dsfn::save_weights("average-w4.dsfn", *wider, dsfn::Storage::Float32);
    try {
        dsfn::average_weights({"average5.dsfn", "average-w4.dsfn"});
        ck_abort_msg("two architectures averaged");
    } catch (const std::invalid_argument &e) {
        ck_assert_msg(std::string(e.what()).find("another architecture") != std::string::npos, "%s", e.what());
    }
    try {
        dsfn::average_weights({"average5.dsfn"});
        ck_abort_msg("one file averaged");
    } catch (const std::invalid_argument &) {
    }
    try {
        dsfn::average_weights({"average5.dsfn", "no-such-file.dsfn"});
        ck_abort_msg("a missing file averaged");
    } catch (const dsfn::WeightsError &e) {
        ck_assert_msg(std::string(e.what()).find("no-such-file.dsfn") != std::string::npos, "%s", e.what());
    }
}
END_TEST

extern "C" Suite *weights_suite(void)
{
    Suite *s = suite_create("weights");
    TCase *tc = tcase_create("file");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_file_errors);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_corrupt);
    tcase_add_test(tc, test_version_and_architecture);
    tcase_add_test(tc, test_average);
    suite_add_tcase(s, tc);
    return s;
}
