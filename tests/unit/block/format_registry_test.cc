#include "block/format_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "tests/support/temp_dir.h"

namespace cella::block {
namespace {

using cella::testing::TempDir;

// Designated initializers would have to name every field (-Wmissing-field-initializers).
inline OpenOptions open_options(std::string format, bool read_only = false,
                                bool force_share = false) {
  OpenOptions options;
  options.format = std::move(format);
  options.read_only = read_only;
  options.force_share = force_share;
  return options;
}

void make_raw(const std::string& path, uint64_t size) {
  ASSERT_TRUE(
      create_image(
          "raw",
          CreateOptions{
              .path = path, .size = size, .backing_file = {}, .backing_format = {}, .options = {}})
          .ok());
}

TEST(FormatRegistry, ListsAndFindsFormats) {
  EXPECT_NE(find_format("raw"), nullptr);
  EXPECT_EQ(find_format("nonsense"), nullptr);
  EXPECT_NE(format_names().find("raw"), std::string::npos);
  for (const FormatDriver& driver : format_drivers()) {
    EXPECT_EQ(find_format(driver.name), &driver);
  }
}

TEST(FormatRegistry, RawIsTheFallbackProbe) {
  std::vector<uint8_t> head(4096, 0xAB);
  const FormatDriver* probed = probe_format(head, head.size());
  ASSERT_NE(probed, nullptr);
  EXPECT_STREQ(probed->name, "raw");
  EXPECT_STREQ(probe_format({}, 0)->name, "raw");
  TempDir dir;
  make_raw(dir.file("a.img"), 4096);
  auto detected = detect_format(dir.file("a.img"));
  ASSERT_TRUE(detected.ok());
  EXPECT_EQ(*detected, "raw");
}

TEST(FormatRegistry, ErrorsNameTheProblem) {
  TempDir dir;
  auto missing = open_image(dir.file("missing.img"), OpenOptions{});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("missing.img"), std::string::npos);
  make_raw(dir.file("a.img"), 4096);
  auto unknown = open_image(dir.file("a.img"), open_options("qcow9"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("qcow9"), std::string::npos);
  EXPECT_NE(unknown.error().message().find("raw"), std::string::npos);  // lists known formats
  auto create = create_image("qcow9", CreateOptions{.path = dir.file("b.img"),
                                                    .size = 0,
                                                    .backing_file = {},
                                                    .backing_format = {},
                                                    .options = {}});
  EXPECT_FALSE(create.ok());
  auto directory = open_image(dir.path(), OpenOptions{});
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message().find("directory"), std::string::npos);
}

TEST(FormatRegistry, DetectsChainLoopsAndDepth) {
  TempDir dir;
  make_raw(dir.file("a.img"), 4096);
  const std::string canonical = std::filesystem::canonical(dir.file("a.img")).string();
  OpenOptions looping;
  looping.opened_by = {"/somewhere/top.qcow2", canonical};
  auto loop = open_image(dir.file("a.img"), looping);
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.error().message().find("loops"), std::string::npos);
  OpenOptions deep;
  deep.max_chain_depth = 2;
  deep.opened_by = {"/x/1", "/x/2"};
  auto too_deep = open_image(dir.file("a.img"), deep);
  ASSERT_FALSE(too_deep.ok());
  EXPECT_NE(too_deep.error().message().find("deeper than 2"), std::string::npos);
}

TEST(FormatRegistry, ResolvesBackingPathsRelativeToTheImage) {
  EXPECT_EQ(resolve_backing_path("/images/vm/top.qcow2", "base.raw"), "/images/vm/base.raw");
  EXPECT_EQ(resolve_backing_path("/images/vm/top.qcow2", "../b.raw"), "/images/vm/../b.raw");
  EXPECT_EQ(resolve_backing_path("/images/vm/top.qcow2", "/abs/b.raw"), "/abs/b.raw");
  EXPECT_EQ(resolve_backing_path("top.qcow2", "base.raw"), "base.raw");
  EXPECT_EQ(resolve_backing_path("top.qcow2", ""), "");
}

TEST(FormatRegistry, BackingImagesOpenReadOnlyUnlessCommitAsks) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("vm"));
  make_raw(dir.file("vm/base.raw"), 8192);
  // As a driver would, with the options it was opened with (read-write top image).
  OpenOptions child;
  child.opened_by = {"/nowhere/top.img"};
  auto backing = open_backing_image(dir.file("vm/top.img"), "base.raw", "raw", child);
  ASSERT_TRUE(backing.ok()) << backing.error().message();
  ASSERT_NE(backing->get(), nullptr);
  EXPECT_TRUE((*backing)->read_only());
  EXPECT_EQ((*backing)->path(), dir.file("vm/base.raw"));
  backing->reset();

  child.backing_writable = true;
  auto writable = open_backing_image(dir.file("vm/top.img"), "base.raw", "raw", child);
  ASSERT_TRUE(writable.ok());
  EXPECT_FALSE((*writable)->read_only());
  writable->reset();

  // Deeper images stay read-only even when commit asks for a writable backing.
  child.opened_by = {"/nowhere/top.img", "/nowhere/middle.img"};
  auto deeper = open_backing_image(dir.file("vm/middle.img"), "base.raw", "raw", child);
  ASSERT_TRUE(deeper.ok());
  EXPECT_TRUE((*deeper)->read_only());
  deeper->reset();

  // The forced backing format overrides what the image records.
  child.opened_by = {"/nowhere/top.img"};
  child.backing_format = "qcow9";
  auto forced = open_backing_image(dir.file("vm/top.img"), "base.raw", "raw", child);
  ASSERT_FALSE(forced.ok());
  EXPECT_NE(forced.error().message().find("qcow9"), std::string::npos);
  EXPECT_NE(forced.error().message().find("backing file of"), std::string::npos);

  child.open_backing = false;
  auto skipped = open_backing_image(dir.file("vm/top.img"), "base.raw", "raw", child);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->get(), nullptr);
}

}  // namespace
}  // namespace cella::block
