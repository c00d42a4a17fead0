// Damaged images: check names each problem, repair fixes what it safely can, and writes never
// land on metadata while an image is damaged.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bits.h"
#include "qcow2_test_support.h"

namespace cella::block::qcow2::testing {
namespace {

// Raw access to an image file, for planting damage (no lock: the image may be open).
class RawImage {
 public:
  explicit RawImage(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CLOEXEC)) {}
  ~RawImage() { ::close(fd_); }
  RawImage(const RawImage&) = delete;
  RawImage& operator=(const RawImage&) = delete;

  uint64_t get64(uint64_t offset) const { return load_be<uint64_t>(read(offset, 8).data()); }
  void set64(uint64_t offset, uint64_t value) {
    uint8_t raw[8];
    store_be<uint64_t>(raw, value);
    write(offset, raw, 8);
  }
  void set16(uint64_t offset, uint16_t value) {
    uint8_t raw[2];
    store_be<uint16_t>(raw, value);
    write(offset, raw, 2);
  }
  uint64_t size() const {
    struct stat st {};
    ::fstat(fd_, &st);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  std::vector<uint8_t> read(uint64_t offset, size_t n) const {
    std::vector<uint8_t> out(n);
    EXPECT_EQ(::pread(fd_, out.data(), n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
    return out;
  }
  void write(uint64_t offset, const uint8_t* data, size_t n) {
    EXPECT_EQ(::pwrite(fd_, data, n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
  }
  int fd_;
};

// Where the metadata of a freshly written image lives (16-bit refcounts).
struct Geometry {
  uint64_t cluster_size;
  uint64_t l1_offset;
  uint64_t refcount_table_offset;
  uint64_t refcount_block0;
  uint64_t l2_of_cluster0;
  uint64_t data_of_cluster0;
};

Geometry geometry(const std::string& path) {
  auto image = open_tuned(path, {}, true);
  const Header& h = image->header();
  RawImage raw(path);
  Geometry g{};
  g.cluster_size = h.cluster_size();
  g.l1_offset = h.l1_table_offset;
  g.refcount_table_offset = h.refcount_table_offset;
  g.refcount_block0 = raw.get64(h.refcount_table_offset);
  g.l2_of_cluster0 = raw.get64(h.l1_table_offset) & kL1OffsetMask;
  g.data_of_cluster0 = raw.get64(g.l2_of_cluster0) & kL2OffsetMask;
  return g;
}

uint64_t refcount_entry(const Geometry& g, uint64_t host_offset) {
  return g.refcount_block0 + (host_offset / g.cluster_size) * 2;
}

std::string all_messages(const CheckReport& report) {
  std::string out;
  for (const auto& m : report.messages) out += m + "\n";
  return out;
}

CheckReport check(BlockImage& image, bool repair) {
  auto report = image.check(repair);
  EXPECT_TRUE(report.ok()) << report.error().message();
  return report.ok() ? *report : CheckReport{};
}

class Qcow2Check : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("damaged.qcow2");
    create_qcow2(path_, 4 << 20, {{"cluster_size", "4k"}});
    auto image = open_rw(path_);
    ASSERT_TRUE(image);
    std::mt19937_64 rng(1);
    content_ = random_bytes(rng, 3 << 20);
    ASSERT_OK(image->write(0, content_));
    content_.resize(4 << 20, 0);
    image.reset();
    g_ = geometry(path_);
  }

  void expect_content_intact() {
    auto image = open_rw(path_, true);
    ASSERT_TRUE(image);
    EXPECT_TRUE(read_all(*image) == content_);
  }

  TempDir dir_;
  std::string path_;
  std::vector<uint8_t> content_;
  Geometry g_{};
};

TEST_F(Qcow2Check, LeakIsNamedAndRepaired) {
  const uint64_t leaked = RawImage(path_).size() / g_.cluster_size + 3;
  RawImage(path_).set16(refcount_entry(g_, leaked * g_.cluster_size), 1);
  auto image = open_rw(path_);
  ASSERT_TRUE(image);
  auto report = check(*image, false);
  EXPECT_EQ(report.corruptions, 0u);
  EXPECT_EQ(report.leaks, 1u);
  EXPECT_NE(all_messages(report).find("leaked cluster " + std::to_string(leaked)),
            std::string::npos)
      << all_messages(report);
  auto repaired = check(*image, true);
  EXPECT_EQ(repaired.leaks_fixed, 1u);
  EXPECT_EQ(repaired.leaks, 0u);
  expect_clean(*image);
  image.reset();
  expect_content_intact();
}

TEST_F(Qcow2Check, RefcountBelowReferencesIsCorruptionAndRepaired) {
  RawImage(path_).set16(refcount_entry(g_, g_.data_of_cluster0), 0);
  auto image = open_rw(path_);
  ASSERT_TRUE(image);
  auto report = check(*image, false);
  EXPECT_GE(report.corruptions, 1u);
  EXPECT_NE(all_messages(report).find("refcount 0 but 1 references"), std::string::npos)
      << all_messages(report);
  auto repaired = check(*image, true);
  EXPECT_EQ(repaired.corruptions, 0u);
  EXPECT_GE(repaired.corruptions_fixed, 1u);
  expect_clean(*image);
  image.reset();
  expect_content_intact();
}

TEST_F(Qcow2Check, DataEntryPastTheEndOfFileIsRefusedForWritesAndCleared) {
  // Guest cluster 1 now claims a host cluster far past the end of the file.
  RawImage(path_).set64(g_.l2_of_cluster0 + 8, (uint64_t{1} << 40) | kCopiedFlag);
  auto image = open_rw(path_);
  ASSERT_TRUE(image);
  auto report = check(*image, false);
  EXPECT_NE(all_messages(report).find("points beyond the end of the file"), std::string::npos)
      << all_messages(report);
  std::vector<uint8_t> data(100, 7);
  auto write = image->write(g_.cluster_size + 10, data);
  ASSERT_FALSE(write.ok());
  EXPECT_NE(write.error().message().find("beyond the end of the file"), std::string::npos);
  // Now marked corrupt: even harmless writes wait for a repair.
  auto refused = image->write(0, data);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("check -r"), std::string::npos);
  auto repaired = check(*image, true);
  EXPECT_EQ(repaired.corruptions, 0u);
  ASSERT_OK(image->write(0, data));
  expect_clean(*image);
  auto* qcow2 = dynamic_cast<Qcow2Image*>(image.get());
  EXPECT_EQ(qcow2->header().incompatible_features & kIncompatCorrupt, 0u);
}

TEST_F(Qcow2Check, DataEntryPointingIntoMetadataNeverOverwritesIt) {
  const uint64_t l1_before = RawImage(path_).get64(g_.l1_offset);
  RawImage(path_).set64(g_.l2_of_cluster0 + 8, g_.l1_offset | kCopiedFlag);
  auto image = open_rw(path_);
  ASSERT_TRUE(image);
  std::vector<uint8_t> data(g_.cluster_size, 0xee);
  auto write = image->write(g_.cluster_size, data);
  ASSERT_FALSE(write.ok());
  EXPECT_NE(write.error().message().find("the L1 table"), std::string::npos)
      << write.error().message();
  EXPECT_EQ(RawImage(path_).get64(g_.l1_offset), l1_before);
  auto report = check(*image, false);
  EXPECT_NE(all_messages(report).find("points into the L1 table"), std::string::npos)
      << all_messages(report);
  auto repaired = check(*image, true);
  EXPECT_EQ(repaired.corruptions, 0u) << all_messages(repaired);
  ASSERT_OK(image->write(g_.cluster_size, data));
  expect_clean(*image);
}

TEST_F(Qcow2Check, TwoL1EntriesSharingAnL2TableAreRefusedAndRepaired) {
  // 4 KiB clusters: one L2 table maps 2 MiB; point the second L1 entry at the first table.
  RawImage raw(path_);
  raw.set64(g_.l1_offset + 8, raw.get64(g_.l1_offset));
  auto image = open_rw(path_);
  ASSERT_TRUE(image);
  std::vector<uint8_t> data(512, 1);
  auto write = image->write(0, data);
  ASSERT_FALSE(write.ok());
  EXPECT_NE(write.error().message().find("overlaps"), std::string::npos) << write.error().message();
  auto report = check(*image, false);
  EXPECT_GE(report.corruptions, 1u);
  auto repaired = check(*image, true);
  EXPECT_EQ(repaired.corruptions, 0u) << all_messages(repaired);
  ASSERT_OK(image->write(0, data));
  expect_clean(*image);
  // The first 2 MiB kept their data; the second L1 entry was dropped (it read someone else's).
  std::vector<uint8_t> out(1 << 20);
  ASSERT_OK(image->read(1 << 20, out));
  EXPECT_TRUE(std::equal(out.begin(), out.end(), content_.begin() + (1 << 20)));
}

TEST_F(Qcow2Check, WrongCopiedFlagIsReportedAndFixed) {
  RawImage raw(path_);
  raw.set64(g_.l2_of_cluster0, raw.get64(g_.l2_of_cluster0) & ~kCopiedFlag);
  auto image = open_rw(path_);
  ASSERT_TRUE(image);
  auto report = check(*image, false);
  EXPECT_EQ(report.corruptions, 1u);
  EXPECT_NE(all_messages(report).find("copied flag is clear but the refcount is 1"),
            std::string::npos)
      << all_messages(report);
  check(*image, true);
  expect_clean(*image);
  EXPECT_NE(RawImage(path_).get64(g_.l2_of_cluster0) & kCopiedFlag, 0u);
}

TEST_F(Qcow2Check, BrokenRefcountTableIsRebuilt) {
  RawImage(path_).set64(g_.refcount_table_offset, g_.refcount_block0 + 100);  // unaligned
  auto image = open_rw(path_);
  ASSERT_TRUE(image);
  std::vector<uint8_t> data(512, 1);
  EXPECT_FALSE(image->write(0, data).ok());  // allocations would trust broken refcounts
  auto report = check(*image, false);
  EXPECT_NE(all_messages(report).find("refcount table entry 0"), std::string::npos)
      << all_messages(report);
  auto repaired = check(*image, true);
  EXPECT_EQ(repaired.corruptions, 0u) << all_messages(repaired);
  EXPECT_NE(all_messages(repaired).find("rebuilt the refcount structure"), std::string::npos);
  image.reset();
  expect_content_intact();
  auto reopened = open_rw(path_);
  std::mt19937_64 rng(2);
  auto more = random_bytes(rng, 1 << 20);
  ASSERT_OK(reopened->write(3 << 20, more));
  expect_clean(*reopened);
}

TEST_F(Qcow2Check, CorruptBitRefusesWritesUntilARepair) {
  RawImage(path_).set64(kOffIncompatibleFeatures, kIncompatCorrupt);
  auto image = open_rw(path_);
  ASSERT_TRUE(image);
  std::vector<uint8_t> data(512, 1);
  auto refused = image->write(0, data);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("marked corrupt"), std::string::npos);
  EXPECT_TRUE(read_all(*image) == content_);  // reads still work
  check(*image, true);
  ASSERT_OK(image->write(0, data));
  EXPECT_EQ(RawImage(path_).get64(kOffIncompatibleFeatures) & kIncompatCorrupt, 0u);
}

TEST_F(Qcow2Check, RepairNeedsAWritableImage) {
  auto image = open_rw(path_, true);
  ASSERT_TRUE(image);
  EXPECT_FALSE(image->check(true).ok());
}

TEST(Qcow2Dirty, DirtyBitMakesAWritableOpenRebuildRefcounts) {
  TempDir dir;
  const std::string path = dir.file("lazy.qcow2");
  create_qcow2(path, 1 << 20, {{"lazy_refcounts", "on"}});
  std::vector<uint8_t> data(200000, 3);
  {
    auto image = open_rw(path);
    ASSERT_OK(image->write(0, data));
  }
  // What a crash under lazy refcounts leaves: the dirty bit, and refcounts behind the tables.
  Geometry g = geometry(path);
  RawImage(path).set16(refcount_entry(g, g.data_of_cluster0), 0);
  RawImage(path).set64(kOffIncompatibleFeatures, kIncompatDirty);
  {
    auto read_only = open_rw(path, true);
    auto report = check(*read_only, false);
    EXPECT_GE(report.corruptions, 1u);
  }
  auto image = open_rw(path);
  ASSERT_TRUE(image);
  expect_clean(*image);
  EXPECT_EQ(RawImage(path).get64(kOffIncompatibleFeatures) & kIncompatDirty, 0u);
  std::vector<uint8_t> out(data.size());
  ASSERT_OK(image->read(0, out));
  EXPECT_EQ(out, data);
}

TEST(Qcow2Dirty, LazyRefcountsSetTheDirtyBitWhileWritingAndClearItOnClose) {
  TempDir dir;
  const std::string path = dir.file("lazy.qcow2");
  create_qcow2(path, 1 << 20, {{"lazy_refcounts", "on"}});
  auto image = open_rw(path);
  ASSERT_TRUE(image);
  EXPECT_EQ(RawImage(path).get64(kOffIncompatibleFeatures) & kIncompatDirty, 0u);
  std::vector<uint8_t> data(4096, 3);
  ASSERT_OK(image->write(0, data));
  EXPECT_NE(RawImage(path).get64(kOffIncompatibleFeatures) & kIncompatDirty, 0u);
  image.reset();
  EXPECT_EQ(RawImage(path).get64(kOffIncompatibleFeatures) & kIncompatDirty, 0u);
}

}  // namespace
}  // namespace cella::block::qcow2::testing
