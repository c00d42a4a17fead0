// Damaged and hostile VMDK disks: each is refused (or its damage reported) with a message
// naming the problem, never a crash, a hang or a giant allocation.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "base/bits.h"
#include "disk_test_util.h"

namespace cella::block {
namespace {

using testing::error_of;
using testing::pattern;
using testing::TempDir;

constexpr uint64_t kGrain = 64 * 1024;

Result<void> create(const std::string& path, uint64_t size,
                    std::map<std::string, std::string> options = {},
                    const std::string& backing = "") {
  return testing::create_file("vmdk", path, size, std::move(options), backing);
}

template <class T>
void patch_le(const std::string& path, uint64_t offset, T value) {
  std::vector<uint8_t> bytes(sizeof(T));
  store_le<T>(bytes.data(), value);
  testing::patch(path, offset, bytes);
}

template <class T>
T peek_le(const std::string& path, uint64_t offset) {
  return load_le<T>(testing::read_whole_file(path).data() + offset);
}

std::string open_error(const std::string& path, bool read_only = true) {
  OpenOptions options;
  options.read_only = read_only;
  return error_of(open_image(path, options));
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "\"" << text << "\" lacks \"" << part << "\"";
}

// The layout of a Cella/qemu monolithicSparse disk ("Hosted Sparse Extent Header").
constexpr uint64_t kGdOffsetField = 56;
constexpr uint64_t kRgdOffsetField = 48;
constexpr uint64_t kGrainSizeField = 20;

// A 16-grain monolithicSparse disk with grains 0 and 1 written; returns the primary GT sector.
uint32_t make_sparse(const std::string& path) {
  EXPECT_TRUE(create(path, 16 * kGrain).ok());
  auto image = testing::open_ok(path);
  EXPECT_TRUE(image->write(0, pattern(2 * kGrain, 1)).ok());
  EXPECT_TRUE(image->flush().ok());
  const uint64_t gd = peek_le<uint64_t>(path, kGdOffsetField);
  return peek_le<uint32_t>(path, gd * 512);
}

void write_descriptor(const std::string& path, const std::string& extents) {
  const std::string text =
      "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
      "createType=\"monolithicFlat\"\n" +
      extents;
  testing::write_whole_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

TEST(VmdkHostile, ExtentPathsMayNotLeaveTheDescriptorFolder) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("inner"));
  testing::write_whole_file(dir.file("data.bin"), std::vector<uint8_t>(4096, 1));
  write_descriptor(dir.file("inner/d.vmdk"), "RW 8 FLAT \"../data.bin\" 0\n");
  expect_contains(open_error(dir.file("inner/d.vmdk")), "leaves the descriptor's folder");
  write_descriptor(dir.file("inner/d.vmdk"), "RW 8 FLAT \"" + dir.file("data.bin") + "\" 0\n");
  expect_contains(open_error(dir.file("inner/d.vmdk")), "is absolute");
  // A subfolder is fine.
  std::filesystem::create_directory(dir.file("inner/sub"));
  testing::write_whole_file(dir.file("inner/sub/data.bin"), std::vector<uint8_t>(4096, 1));
  write_descriptor(dir.file("inner/d.vmdk"), "RW 8 FLAT \"sub/data.bin\" 0\n");
  EXPECT_EQ(open_error(dir.file("inner/d.vmdk")), "");
}

TEST(VmdkHostile, ExtentsMustBeDistinctRegularFilesHoldingTheirData) {
  TempDir dir;
  testing::write_whole_file(dir.file("data.bin"), std::vector<uint8_t>(4096, 1));
  write_descriptor(dir.file("d.vmdk"), "RW 16 FLAT \"data.bin\" 0\n");
  expect_contains(open_error(dir.file("d.vmdk")), "the file has 4096 bytes");
  write_descriptor(dir.file("d.vmdk"), "RW 4 FLAT \"data.bin\" 4398046511103\n");
  expect_contains(open_error(dir.file("d.vmdk")), "extent offset '4398046511103' is too large");
  write_descriptor(dir.file("d.vmdk"), "RW 4 FLAT \"data.bin\" 4398046511\n");
  expect_contains(open_error(dir.file("d.vmdk")), "flat extent covers bytes");
  write_descriptor(dir.file("d.vmdk"), "RW 4 FLAT \"data.bin\" 0\nRW 4 FLAT \"data.bin\" 4\n");
  expect_contains(open_error(dir.file("d.vmdk"), false), "listed twice");
  write_descriptor(dir.file("d.vmdk"), "RW 4 FLAT \"d.vmdk\" 0\n");
  expect_contains(open_error(dir.file("d.vmdk")), "listed twice");
  std::filesystem::create_symlink("/dev/zero", dir.file("dev.vmdk"));
  write_descriptor(dir.file("d.vmdk"), "RW 4 FLAT \"dev.vmdk\" 0\n");
  expect_contains(open_error(dir.file("d.vmdk")), "regular file");
  write_descriptor(dir.file("d.vmdk"), "RW 4 FLAT \"missing.vmdk\" 0\n");
  expect_contains(open_error(dir.file("d.vmdk")), "missing.vmdk");
  write_descriptor(dir.file("d.vmdk"), "RW 4 VMFSRDM \"data.bin\"\n");
  expect_contains(open_error(dir.file("d.vmdk")), "raw device");
  write_descriptor(dir.file("d.vmdk"), "");
  expect_contains(open_error(dir.file("d.vmdk")), "lists no extents");
}

TEST(VmdkHostile, UnsupportedDiskTypesAreNamed) {
  TempDir dir;
  const std::string text =
      "# Disk DescriptorFile\nversion=1\ncreateType=\"fullDevice\"\n"
      "RW 8 FLAT \"/dev/sda\" 0\n";
  testing::write_whole_file(dir.file("d.vmdk"), std::vector<uint8_t>(text.begin(), text.end()));
  expect_contains(open_error(dir.file("d.vmdk")), "raw device disks are not supported");
  std::vector<uint8_t> cowd(4096, 0);
  std::memcpy(cowd.data(), "COWD", 4);
  testing::write_whole_file(dir.file("c.vmdk"), cowd);
  OpenOptions options;
  options.format = "vmdk";
  expect_contains(error_of(open_image(dir.file("c.vmdk"), options)), "COWD");
}

TEST(VmdkHostile, GrainDirectoryOutsideTheFile) {
  TempDir dir;
  const std::string path = dir.file("s.vmdk");
  make_sparse(path);
  patch_le<uint64_t>(path, kGdOffsetField, 1u << 30);
  expect_contains(open_error(path), "grain directory");
  make_sparse(path);
  const uint64_t gd = peek_le<uint64_t>(path, kGdOffsetField);
  patch_le<uint32_t>(path, gd * 512, 0xfffffff0);
  expect_contains(open_error(path), "grain directory entry 0 points to sector 4294967280");
  make_sparse(path);
  patch_le<uint64_t>(path, kRgdOffsetField, 0xffffffffffff);
  expect_contains(open_error(path), "redundant grain directory");
}

TEST(VmdkHostile, AbsurdHeaderFieldsAreRefused) {
  TempDir dir;
  const std::string path = dir.file("s.vmdk");
  make_sparse(path);
  patch_le<uint64_t>(path, kGrainSizeField, 1u << 30);
  expect_contains(open_error(path), "invalid grain size");
  make_sparse(path);
  patch_le<uint64_t>(path, 12, uint64_t{1} << 34);  // capacity: a grain directory past the end
  expect_contains(open_error(path), "the primary grain directory");
  make_sparse(path);
  patch_le<uint64_t>(path, 12, uint64_t{1} << 40);  // a directory too large to load at all
  expect_contains(open_error(path), "grain directory of 16777216 entries is larger");
  make_sparse(path);
  patch_le<uint64_t>(path, 64, uint64_t{1} << 50);  // overhead
  expect_contains(open_error(path), "overhead");
  make_sparse(path);
  patch_le<uint64_t>(path, 36, 4096);  // descriptor size: 2 MiB
  expect_contains(open_error(path), "descriptor");
}

TEST(VmdkHostile, TruncatedFilesAreRefused) {
  TempDir dir;
  const std::string path = dir.file("s.vmdk");
  make_sparse(path);
  std::filesystem::resize_file(path, 3000);
  expect_contains(open_error(path), "outside the file");
  std::filesystem::resize_file(path, 100);
  OpenOptions options;
  options.format = "vmdk";
  EXPECT_FALSE(open_image(path, options).ok());
}

TEST(VmdkHostile, GrainTableEntriesBeyondTheFileFailReadsAndCheck) {
  TempDir dir;
  const std::string path = dir.file("s.vmdk");
  const uint32_t gt = make_sparse(path);
  patch_le<uint32_t>(path, uint64_t{gt} * 512 + 4, 0x7fffffff);  // grain 1
  auto image = testing::open_ok(path, true);
  ASSERT_TRUE(image);
  std::vector<uint8_t> buffer(512);
  EXPECT_TRUE(image->read(0, buffer).ok());
  expect_contains(error_of(image->read(kGrain, buffer)), "beyond the end of the file");
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 1u);
  expect_contains(report->messages.at(0), "grain 1 is at byte");
}

TEST(VmdkHostile, GrainsInsideMetadataAreNotWritten) {
  TempDir dir;
  const std::string path = dir.file("s.vmdk");
  const uint32_t gt = make_sparse(path);
  patch_le<uint32_t>(path, uint64_t{gt} * 512, 2);  // grain 0 "stored" over the descriptor
  auto image = testing::open_ok(path);
  ASSERT_TRUE(image);
  expect_contains(error_of(image->write(10, pattern(10, 1))), "points into the extent's metadata");
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_GE(report->corruptions, 1u);
}

TEST(VmdkHostile, SharedGrainsAreReportedAsCorruption) {
  TempDir dir;
  const std::string path = dir.file("s.vmdk");
  const uint32_t gt = make_sparse(path);
  const uint32_t grain0 = peek_le<uint32_t>(path, uint64_t{gt} * 512);
  patch_le<uint32_t>(path, uint64_t{gt} * 512 + 8, grain0);  // grain 2 shares grain 0's space
  auto image = testing::open_ok(path, true);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 1u);
  std::string all;
  for (const std::string& message : report->messages) all += message + "\n";
  expect_contains(all, "ERROR: grain 2 overlaps grain 0");
}

TEST(VmdkHostile, LeaksAndStaleRedundantTablesAreFoundAndRepaired) {
  TempDir dir;
  const std::string path = dir.file("s.vmdk");
  make_sparse(path);
  // A grain appended but never referenced (a crash between the data and the grain table).
  const uint64_t end = std::filesystem::file_size(path);
  testing::patch(path, end, pattern(kGrain, 9));
  // A redundant grain table entry that lags the primary one.
  const uint64_t rgd = peek_le<uint64_t>(path, kRgdOffsetField);
  const uint32_t rgt = peek_le<uint32_t>(path, rgd * 512);
  patch_le<uint32_t>(path, uint64_t{rgt} * 512 + 4, 0);
  {
    auto image = testing::open_ok(path, true);
    auto report = image->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->corruptions, 0u);
    EXPECT_EQ(report->leaks, 2u);  // one leaked grain, one stale redundant entry
  }
  {
    auto image = testing::open_ok(path);
    auto report = image->check(true);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->leaks_fixed, 2u);
  }
  EXPECT_EQ(std::filesystem::file_size(path), end);
  auto image = testing::open_ok(path, true);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->leaks + report->corruptions, 0u);
  EXPECT_EQ(testing::read_all(*image), [] {
    auto data = pattern(2 * kGrain, 1);
    data.resize(16 * kGrain, 0);
    return data;
  }());
}

TEST(VmdkHostile, ParentLoopsAreDetected) {
  TempDir dir;
  ASSERT_TRUE(create(dir.file("a.vmdk"), 4 * kGrain).ok());
  ASSERT_TRUE(create(dir.file("b.vmdk"), 0, {}, "a.vmdk").ok());
  // Make a's descriptor name b as its parent.
  auto bytes = testing::read_whole_file(dir.file("a.vmdk"));
  std::string text(bytes.begin() + 512, bytes.begin() + 512 * 21);
  const size_t at = text.find("parentCID=ffffffff");
  ASSERT_NE(at, std::string::npos);
  std::string replacement = "parentCID=00000000\nparentFileNameHint=\"b.vmdk\"";
  text.replace(at, 18, replacement);
  text.resize(20 * 512, '\0');
  testing::patch(dir.file("a.vmdk"), 512, std::vector<uint8_t>(text.begin(), text.end()));
  expect_contains(open_error(dir.file("b.vmdk")), "loops back");
  // A disk that is its own parent.
  auto b = testing::read_whole_file(dir.file("b.vmdk"));
  std::string b_text(b.begin(), b.end());
  const size_t hint = b_text.find("parentFileNameHint=\"a.vmdk\"");
  ASSERT_NE(hint, std::string::npos);
  testing::patch(dir.file("b.vmdk"), hint + 20, {'b'});
  expect_contains(open_error(dir.file("b.vmdk")), "loops back");
}

TEST(VmdkHostile, CorruptCompressedGrainsAreNamed) {
  TempDir dir;
  const std::string path = dir.file("s.vmdk");
  ASSERT_TRUE(create(path, 4 * kGrain, {{"subformat", "streamOptimized"}}).ok());
  {
    auto image = testing::open_ok(path);
    ASSERT_TRUE(image->write(0, pattern(kGrain, 1)).ok());
    ASSERT_TRUE(image->write(kGrain, pattern(kGrain, 2)).ok());
  }
  // Grain 0's marker is at the start of the grain area: damage its LBA, then its data.
  const uint64_t overhead = peek_le<uint64_t>(path, 64) * 512;
  patch_le<uint64_t>(path, overhead, 777);
  auto image = testing::open_ok(path, true);
  std::vector<uint8_t> buffer(512);
  expect_contains(error_of(image->read(0, buffer)), "grain marker at sector");
  EXPECT_TRUE(image->read(kGrain, buffer).ok());
  image.reset();
  patch_le<uint64_t>(path, overhead, 0);
  testing::patch(path, overhead + 20, std::vector<uint8_t>(64, 0xff));
  image = testing::open_ok(path, true);
  expect_contains(error_of(image->read(0, buffer)), "grain 0 at sector 128: compressed grain");
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);  // markers are sound; inflating is left to reads
  // Without its footer, a GD_AT_END stream is incomplete.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 512);
  image.reset();
  expect_contains(open_error(path), "incomplete stream");
}

TEST(VmdkHostile, QemuLayoutStreamsOpenReadOnlyOnly) {
  TempDir dir;
  testing::write_whole_file(dir.file("r.raw"), pattern(3 * kGrain, 4));
  auto convert =
      testing::run_command("qemu-img convert -f raw -O vmdk -o subformat=streamOptimized " +
                           dir.file("r.raw") + " " + dir.file("q.vmdk"));
  ASSERT_EQ(convert.exit_code, 0) << convert.output;
  expect_contains(open_error(dir.file("q.vmdk"), false), "open it read-only");
  EXPECT_EQ(open_error(dir.file("q.vmdk"), true), "");
}

}  // namespace
}  // namespace cella::block

namespace cella::block {
namespace {

TEST(VmdkHostile, UncleanShutdownIsSetWhileWritingAndReported) {
  TempDir dir;
  const std::string path = dir.file("u.vmdk");
  ASSERT_TRUE(create(path, 4 * kGrain).ok());
  constexpr uint64_t kUncleanField = 72;
  {
    auto image = testing::open_ok(path);
    ASSERT_TRUE(image->write(0, pattern(100, 1)).ok());
    EXPECT_EQ(testing::read_whole_file(path)[kUncleanField], 1);  // durable before the first change
    // A writer killed now leaves the flag set: the image says so.
    {
      const auto copy = testing::read_whole_file(path);
      testing::write_whole_file(dir.file("crashed.vmdk"), copy);
    }
  }
  EXPECT_EQ(testing::read_whole_file(path)[kUncleanField], 0);  // cleared by a clean close
  auto crashed = testing::open_ok(dir.file("crashed.vmdk"), true);
  bool reported = false;
  for (const InfoField& field : crashed->info()) {
    reported |= field.key == "unclean-shutdown" && field.value == "true";
  }
  EXPECT_TRUE(reported);
}

TEST(VmdkHostile, ExtentAccessIsEnforced) {
  TempDir dir;
  testing::write_whole_file(dir.file("a.bin"), std::vector<uint8_t>(8192, 1));
  testing::write_whole_file(dir.file("b.bin"), std::vector<uint8_t>(8192, 2));
  write_descriptor(dir.file("d.vmdk"),
                   "RW 16 FLAT \"a.bin\" 0\nRDONLY 16 FLAT \"b.bin\" 0\nNOACCESS 16 ZERO\n");
  auto image = testing::open_ok(dir.file("d.vmdk"));
  ASSERT_TRUE(image);
  std::vector<uint8_t> buffer(512);
  EXPECT_TRUE(image->write(0, buffer).ok());
  expect_contains(error_of(image->write(8192, buffer)), "RDONLY extent");
  EXPECT_TRUE(image->read(8192, buffer).ok());
  EXPECT_EQ(buffer[0], 2);
  expect_contains(error_of(image->read(16384, buffer)), "NOACCESS extent");
  EXPECT_EQ(testing::read_whole_file(dir.file("b.bin")), std::vector<uint8_t>(8192, 2));
}

}  // namespace
}  // namespace cella::block
