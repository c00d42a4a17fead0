// Backing chains: read through, commit, rebase and convert -B, side by side with qemu-img.
// Every format of format_cases() that has differencing images.
#include <gtest/gtest.h>

#include "image_fixture.h"

namespace cella::interop {
namespace {

class Chain : public ImageTest {
 protected:
  // base <- middle <- top, each level writing its own ranges, sizes not cluster multiples.
  void build_chain() {
    const char* f = format().qemu_name;
    qemu_create(file("base.img"), kOddSize);
    qemu_io(f, file("base.img"), {"write -P 0x01 0 2M", "write -P 0x02 4M 512k"});
    qemu_create(file("middle.img"), 0, "base.img", f);
    qemu_io(f, file("middle.img"), {"write -P 0x03 1M 128k", "write -z 4M 64k"});
    qemu_create(file("top.img"), 0, "middle.img", f);
    qemu_io(f, file("top.img"), {"write -P 0x04 96k 8k", "write -P 0x05 3M 4k"});
  }
};

TEST_P(Chain, ReadsThroughTheChain) {
  build_chain();
  const std::string reference = qemu_raw_copy(file("top.img"), format().qemu_name);
  expect_cella_identical(file("top.img"), reference);
  RunResult map = cella({"map", "--output", "json", file("top.img")});
  RunResult qemu_map = qemu_img({"map", "--output=json", file("top.img")});
  ASSERT_EQ(map.exit_code, 0) << describe(map);
  if (format().map_matches_qemu) {
    EXPECT_EQ(map.out, qemu_map.out);
  }
  RunResult info = cella({"info", "--backing-chain", "--output", "json", file("top.img")});
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  auto chain = parse_json(info);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0]["backing-filename"], "middle.img");
  EXPECT_EQ(chain[0]["backing-filename-format"], format().name);
  EXPECT_EQ(chain[1]["filename"], file("middle.img"));
  EXPECT_EQ(chain[2]["filename"], file("base.img"));
  EXPECT_FALSE(chain[2].contains("backing-filename"));
}

TEST_P(Chain, CommitMatchesQemu) {
  build_chain();
  const std::string expected = qemu_raw_copy(file("top.img"), format().qemu_name);
  RunResult committed = cella({"commit", file("top.img")});
  ASSERT_EQ(committed.exit_code, 0) << describe(committed);
  EXPECT_EQ(committed.out, "Image committed.\n");
  expect_qemu_check_clean(file("top.img"));
  expect_qemu_check_clean(file("middle.img"));
  // Both the emptied overlay and the updated middle image read as the old top did.
  expect_qemu_identical(expected, "raw", file("top.img"), format().qemu_name);
  expect_qemu_identical(expected, "raw", file("middle.img"), format().qemu_name);
  RunResult top_map = qemu_img({"map", "--output=json", file("top.img")});
  for (auto& extent : parse_json(top_map)) EXPECT_GT(extent["depth"], 0) << extent;
}

TEST_P(Chain, CommitKeepingTheOverlay) {
  build_chain();
  ASSERT_EQ(cella({"commit", "-d", "-q", file("top.img")}).exit_code, 0);
  RunResult top_map = qemu_img({"map", "--output=json", file("top.img")});
  bool top_data = false;
  for (auto& extent : parse_json(top_map)) top_data |= extent["depth"] == 0;
  EXPECT_TRUE(top_data);
}

TEST_P(Chain, SafeRebaseKeepsContent) {
  build_chain();
  const std::string expected = qemu_raw_copy(file("top.img"), format().qemu_name);
  // Onto the base, skipping the middle image: its changes move into the top.
  RunResult rebased = cella({"rebase", "-b", "base.img", "-F", format().name, file("top.img")});
  ASSERT_EQ(rebased.exit_code, 0) << describe(rebased);
  expect_qemu_check_clean(file("top.img"));
  expect_qemu_identical(expected, "raw", file("top.img"), format().qemu_name);
  auto info = parse_json(qemu_img({"info", "--output=json", file("top.img")}));
  EXPECT_EQ(info["backing-filename"], "base.img");
  EXPECT_EQ(info["backing-filename-format"], format().qemu_name);
  // Onto nothing: standalone.
  ASSERT_EQ(cella({"rebase", "-b", "", file("top.img")}).exit_code, 0);
  EXPECT_FALSE(parse_json(qemu_img({"info", "--output=json", file("top.img")}))
                   .contains("backing-filename"));
  expect_qemu_identical(expected, "raw", file("top.img"), format().qemu_name);
}

TEST_P(Chain, UnsafeRebaseOnlyChangesThePointer) {
  build_chain();
  ASSERT_EQ(
      qemu_img({"convert", "-O", format().qemu_name, file("middle.img"), file("flat-middle.img")})
          .exit_code,
      0);
  const std::string expected = qemu_raw_copy(file("top.img"), format().qemu_name);
  RunResult rebased =
      cella({"rebase", "-u", "-b", "flat-middle.img", "-F", format().name, file("top.img")});
  ASSERT_EQ(rebased.exit_code, 0) << describe(rebased);
  auto info = parse_json(qemu_img({"info", "--output=json", file("top.img")}));
  EXPECT_EQ(info["backing-filename"], "flat-middle.img");
  expect_qemu_identical(expected, "raw", file("top.img"), format().qemu_name);
}

TEST_P(Chain, ConvertOntoABackingFile) {
  build_chain();
  // The new image's backing (a copy of middle) holds what top's backing holds.
  ASSERT_EQ(
      qemu_img({"convert", "-O", format().qemu_name, file("middle.img"), file("flat-middle.img")})
          .exit_code,
      0);
  RunResult converted = cella_with_format(
      "convert", "-O",
      {"-B", "flat-middle.img", "-F", format().name, file("top.img"), file("new-top.img")});
  ASSERT_EQ(converted.exit_code, 0) << describe(converted);
  expect_qemu_check_clean(file("new-top.img"));
  expect_qemu_identical(file("top.img"), format().qemu_name, file("new-top.img"),
                        format().qemu_name);
  auto info = parse_json(qemu_img({"info", "--output=json", file("new-top.img")}));
  EXPECT_EQ(info["backing-filename"], "flat-middle.img");
  // Only the top's clusters were copied: far less than the whole chain.
  EXPECT_LT(disk_usage(file("new-top.img")), disk_usage(file("flat-middle.img")));
}

TEST_P(Chain, CreateOverABackingFile) {
  qemu_create(file("base.img"), kOddSize);
  RunResult without_format =
      cella({"create", "-f", format().name, "-b", "base.img", file("overlay.img")});
  EXPECT_EQ(without_format.exit_code, 1);
  EXPECT_NE(without_format.err.find(std::string("-F ") + format().name), std::string::npos)
      << without_format.err;
  RunResult created = cella_with_format(
      "create", "-f", {"-b", "base.img", "-F", format().name, file("overlay.img")});
  ASSERT_EQ(created.exit_code, 0) << describe(created);
  auto info = parse_json(qemu_img({"info", "--output=json", file("overlay.img")}));
  EXPECT_EQ(info["virtual-size"], kOddSize);  // the backing file's size
  EXPECT_EQ(info["backing-filename"], "base.img");
  expect_qemu_check_clean(file("overlay.img"));
}

INSTANTIATE_TEST_SUITE_P(Formats, Chain, ::testing::ValuesIn(backing_format_cases()), CaseName());
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Chain);

}  // namespace
}  // namespace cella::interop
