// The fuzz targets' seed corpora (fuzz/corpus/vhd, fuzz/corpus/vhdx): every seed opens, so the
// fuzzer starts from valid images. With CELLA_WRITE_FUZZ_SEEDS=1 in the environment the seeds
// are regenerated from Cella's writer and the hand-built fixtures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "../../../fuzz/fuzz_image_file.h"
#include "image_test_support.h"
#include "vhd_fixture.h"
#include "vhdx_fixture.h"

namespace cella::block {
namespace {

using namespace testing;

const std::filesystem::path kCorpus =
    std::filesystem::path(__FILE__).parent_path() / "../../../fuzz/corpus";

// Images written by Cella with a little data.
std::vector<uint8_t> cella_image(const char* format, uint64_t size,
                                 std::map<std::string, std::string> options) {
  TempDir dir;
  const std::string path = dir.file("seed");
  create_ok(format, path, size, options);
  {
    auto image = open_ok(path, false, format);
    if (image == nullptr) return {};
    EXPECT_OK(image->write(0, pattern(0, 700, 1)));
    EXPECT_OK(image->write(size / 2 + 3, pattern(0, 600, 2)));
  }
  return read_host_file(path);
}

std::map<std::string, std::vector<uint8_t>> vhd_seeds() {
  using namespace vhd_spec;
  std::map<std::string, std::vector<uint8_t>> seeds;
  seeds["cella-dynamic"] =
      cella_image("vhd", 64 * 1024, {{"block_size", "4k"}, {"force_size", "on"}});
  seeds["cella-fixed"] =
      cella_image("vhd", 16 * 1024, {{"subformat", "fixed"}, {"force_size", "on"}});
  seeds["cella-chs"] = cella_image("vhd", 40000, {{"block_size", "4k"}});
  DynamicSpec spec;
  spec.footer.size = 16 * 1024;
  std::memcpy(spec.footer.creator, "vpc ", 4);
  spec.footer.cylinders = 1;
  spec.footer.heads = 4;
  spec.footer.sectors_per_track = 17;
  spec.block_size = 4096;
  spec.blocks[1] = {{true, false, true, false, true, false, true, true}, pattern(4096, 4096, 3)};
  seeds["fixture-dynamic"] = build_dynamic(spec);
  spec.footer.disk_type = 4;
  spec.parent_name = "parent.vhd";
  spec.locators = {{0x57327275, utf16le(".\\image")},
                   {0x4D616358, {'f', 'i', 'l', 'e', ':', '/', '/', '/', 'x'}}};
  seeds["fixture-differencing"] = build_dynamic(spec);
  return seeds;
}

std::map<std::string, std::vector<uint8_t>> vhdx_seeds() {
  using namespace vhdx_spec;
  std::map<std::string, std::vector<uint8_t>> seeds;
  seeds["cella-dynamic"] = cella_image("vhdx", 3 << 20, {{"block_size", "1M"}});
  seeds["cella-fixed"] =
      cella_image("vhdx", 2 << 20, {{"subformat", "fixed"}, {"block_size", "1M"}});
  seeds["cella-zero-state"] =
      cella_image("vhdx", 3 << 20, {{"block_state_zero", "on"}, {"block_size", "1M"}});
  VhdxSpec spec;
  spec.size = 2 * kMiB;
  spec.blocks[0] = {6, Bytes(kMiB, 0), {}};
  std::fill(spec.blocks[0].data.begin(), spec.blocks[0].data.begin() + 1024, 0x61);
  Bytes dirty = build(spec);
  dirty.resize(6 * kMiB, 0);
  Bytes page = bat_page(dirty, spec, 0);
  put_le(page, 8, 5 * kMiB | 6, 8);
  spec.log_guid = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  LogEntrySpec entry;
  entry.sequence = 3;
  entry.log_guid = spec.log_guid;
  entry.pages = {{spec.bat_offset, page}};
  entry.zeros = {{5 * kMiB, 4096}};
  entry.flushed_file_offset = entry.last_file_offset = 6 * kMiB;
  write_log_entry(dirty, spec, entry);
  set_log_guid(dirty, spec, spec.log_guid);
  seeds["fixture-dirty-log"] = dirty;
  VhdxSpec child;
  child.size = 2 * kMiB;
  child.has_parent = true;
  child.locator = {{"parent_linkage", "{04030201-0605-0807-090A-0B0C0D0E0F10}"},
                   {"relative_path", ".\\image"}};
  std::vector<bool> sectors(2048, false);
  sectors[1] = sectors[5] = true;
  child.blocks[1] = {7, Bytes(kMiB, 0), sectors};
  std::fill(child.blocks[1].data.begin(), child.blocks[1].data.begin() + 3072, 0x62);
  seeds["fixture-differencing"] = build(child);
  return seeds;
}

void check_or_write(const std::string& name, const char* format,
                    const std::map<std::string, std::vector<uint8_t>>& seeds) {
  const std::filesystem::path folder = kCorpus / name;
  if (std::getenv("CELLA_WRITE_FUZZ_SEEDS") != nullptr) {
    std::filesystem::create_directories(folder);
    for (const auto& [seed, file] : seeds)
      write_file((folder / seed).string(), fuzz::encode_image(file));
  }
  ASSERT_TRUE(std::filesystem::is_directory(folder)) << folder;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::vector<uint8_t> input = read_host_file(entry.path().string());
    fuzz::ScratchImage scratch;
    const std::string& path = scratch.write(fuzz::decode_image(input.data(), input.size()));
    OpenOptions options;
    options.format = format;
    options.open_backing = false;            // differencing seeds name parents that are not there
    auto image = open_image(path, options);  // read-write: replays a dirty log
    EXPECT_TRUE(image.ok()) << entry.path() << ": " << (image.ok() ? "" : image.error().message());
    ++count;
  }
  EXPECT_GE(count, 4);
}

TEST(FuzzSeeds, VhdSeedsAreValidImages) {
  check_or_write("vhd", "vhd", vhd_seeds());
}
TEST(FuzzSeeds, VhdxSeedsAreValidImages) {
  check_or_write("vhdx", "vhdx", vhdx_seeds());
}

}  // namespace
}  // namespace cella::block
