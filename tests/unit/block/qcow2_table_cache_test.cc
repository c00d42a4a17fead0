// The bounded metadata cache: least-recently-used eviction, pins, and the write-back hook that
// orders metadata writes.
#include <gtest/gtest.h>

#include "block/qcow2/table_cache.h"
#include "qcow2_test_support.h"

namespace cella::block::qcow2::testing {
namespace {

class TableCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto file = HostFile::create(dir_.file("tables"));
    ASSERT_TRUE(file.ok());
    file_ = std::make_unique<HostFile>(std::move(file).value());
    ASSERT_OK(file_->truncate(64 * kTable));
    storage_ = std::make_unique<Storage>(*file_);
  }

  uint64_t on_disk(uint64_t offset) {
    uint8_t raw[8];
    EXPECT_TRUE(file_->read(offset, raw).ok());
    return load_be<uint64_t>(raw);
  }

  static constexpr size_t kTable = 512;
  TempDir dir_;
  std::unique_ptr<HostFile> file_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(TableCacheTest, EvictsTheLeastRecentlyUsedAndWritesItBackAfterTheHook) {
  TableCache cache(*storage_, kTable, 2);
  std::vector<std::string> events;
  cache.set_before_write([&]() -> Result<void> {
    events.push_back("hook");
    return ok();
  });
  {
    auto a = cache.create(0);
    ASSERT_OK(a);
    a->set64(0, 0xaaaa);
  }
  {
    auto b = cache.load(kTable);
    ASSERT_OK(b);
  }
  { ASSERT_OK(cache.load(0)); }           // a is now the most recent
  EXPECT_EQ(on_disk(0), 0u);              // still only in the cache
  { ASSERT_OK(cache.load(2 * kTable)); }  // evicts b (clean): no write, no hook
  EXPECT_TRUE(events.empty());
  { ASSERT_OK(cache.load(3 * kTable)); }  // evicts a (dirty): hook first, then the write
  EXPECT_EQ(events, std::vector<std::string>{"hook"});
  EXPECT_EQ(on_disk(0), 0xaaaau);
  EXPECT_LE(cache.size(), 2u);
}

TEST_F(TableCacheTest, PinnedTablesStayAndForgottenOnesAreNeverWritten) {
  TableCache cache(*storage_, kTable, 2);
  auto pinned = cache.create(0);
  ASSERT_OK(pinned);
  pinned->set64(1, 7);
  for (uint64_t i = 1; i < 6; ++i) ASSERT_OK(cache.load(i * kTable));
  pinned->set64(2, 8);  // still valid: pinned tables are not evicted
  auto doomed = cache.create(10 * kTable);
  ASSERT_OK(doomed);
  doomed->set64(0, 0xdead);
  doomed = TableCache::Handle();
  cache.forget(10 * kTable);
  ASSERT_OK(cache.write_dirty());
  EXPECT_EQ(on_disk(8), 7u);
  EXPECT_EQ(on_disk(16), 8u);
  EXPECT_EQ(on_disk(10 * kTable), 0u);
  EXPECT_FALSE(cache.has_dirty());
}

}  // namespace
}  // namespace cella::block::qcow2::testing
