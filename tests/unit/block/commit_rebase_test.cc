#include <gtest/gtest.h>

#include "block/ops/commit.h"
#include "block/ops/rebase.h"
#include "memory_image.h"
#include "ops_test_util.h"

namespace cella::block::ops {
namespace {

using testing::contents;
using testing::MemoryImage;
using testing::put;
using State = MemoryImage::State;

TEST(Commit, CopiesOverlayIntoBackingAndEmptiesIt) {
  MemoryImage base("base", 3 << 20);
  put(base, 0, 3 << 20, 1);
  MemoryImage overlay("overlay", 3 << 20, 4096, &base);
  put(overlay, 4096, 10000, 2);
  put(overlay, (2 << 20) + 5, 3, 3);
  ASSERT_TRUE(overlay.write_zeroes(1 << 20, 8192, true).ok());
  const auto expected = contents(overlay);
  auto committed = commit(overlay, CommitOptions{});
  ASSERT_TRUE(committed.ok()) << committed.error().message();
  EXPECT_EQ(contents(base), expected);
  EXPECT_EQ(overlay.count(State::kData), 0u);
  EXPECT_EQ(overlay.count(State::kZero), 0u);
  EXPECT_EQ(contents(overlay), expected);  // now read from the updated base
}

TEST(Commit, KeepsTheOverlayWhenAsked) {
  MemoryImage base("base", 1 << 20);
  MemoryImage overlay("overlay", 1 << 20, 4096, &base);
  put(overlay, 0, 4096, 2);
  CommitOptions options;
  options.keep_overlay = true;
  ASSERT_TRUE(commit(overlay, options).ok());
  EXPECT_EQ(contents(base), contents(overlay));
  EXPECT_EQ(overlay.count(State::kData), 1u);
}

TEST(Commit, GrowsAShorterBacking) {
  MemoryImage base("base", 8192);
  MemoryImage overlay("overlay", 65536, 4096, &base);
  put(overlay, 60000, 100, 4);
  ASSERT_TRUE(commit(overlay, CommitOptions{}).ok());
  EXPECT_EQ(base.size(), 65536u);
  EXPECT_EQ(contents(base), contents(overlay));
}

TEST(Commit, NeedsAWritableBacking) {
  MemoryImage alone("alone", 8192);
  auto no_backing = commit(alone, CommitOptions{});
  ASSERT_FALSE(no_backing.ok());
  EXPECT_NE(no_backing.error().message().find("no backing"), std::string::npos);
  MemoryImage base("base", 8192);
  base.set_read_only(true);
  MemoryImage overlay("overlay", 8192, 4096, &base);
  auto read_only = commit(overlay, CommitOptions{});
  ASSERT_FALSE(read_only.ok());
  EXPECT_NE(read_only.error().message().find("read-only"), std::string::npos);
}

TEST(Rebase, KeepsContentOverADifferentBacking) {
  MemoryImage old_base("old", 3 << 20);
  put(old_base, 0, 1 << 20, 1);
  put(old_base, 2 << 20, 4096, 2);
  MemoryImage new_base("new", 2 << 20);  // shorter: the rest reads as zeros
  put(new_base, 0, 1 << 20, 1);          // same as the old one there
  put(new_base, (1 << 20) + 4096, 4096, 7);
  MemoryImage overlay("overlay", 3 << 20, 4096, &old_base);
  put(overlay, 0, 4096, 3);
  const auto expected = contents(overlay);
  auto rebased =
      rebase(overlay, RebaseTarget{.image = &new_base, .file = "new.img", .format = "raw"}, {});
  ASSERT_TRUE(rebased.ok()) << rebased.error().message();
  EXPECT_EQ(overlay.backing_file(), "new.img");
  EXPECT_EQ(overlay.backing_format(), "raw");
  overlay.set_backing_image(&new_base);  // as a reopen would
  EXPECT_EQ(contents(overlay), expected);
  // Only the ranges where the backings differ were copied: the changed cluster in the middle
  // and the old one past the new backing's end, besides what the overlay had.
  EXPECT_EQ(overlay.count(State::kData), 3u);
}

TEST(Rebase, OntoNothingMakesTheImageStandalone) {
  MemoryImage old_base("old", 1 << 20);
  put(old_base, 0, 1 << 20, 5);
  MemoryImage overlay("overlay", 1 << 20, 65536, &old_base);
  put(overlay, 65536, 100, 6);
  const auto expected = contents(overlay);
  ASSERT_TRUE(rebase(overlay, RebaseTarget{}, {}).ok());
  EXPECT_EQ(overlay.backing_file(), "");
  overlay.set_backing_image(nullptr);
  EXPECT_EQ(contents(overlay), expected);
}

TEST(Rebase, NeedsAWritableImage) {
  MemoryImage overlay("overlay", 8192);
  overlay.set_read_only(true);
  auto rebased = rebase(overlay, RebaseTarget{}, {});
  ASSERT_FALSE(rebased.ok());
  EXPECT_NE(rebased.error().message().find("read-only"), std::string::npos);
}

}  // namespace
}  // namespace cella::block::ops
