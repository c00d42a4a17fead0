// virtio-blk reads, writes, flushes and GET_ID (virtio 1.2 5.2.6), the configuration space and
// features (5.2.3, 5.2.4), and the answers to requests that are well formed but wrong.
#include <gtest/gtest.h>

#include "tests/unit/block/image_test_support.h"
#include "tests/unit/virtio/blk_fixture.h"

namespace cella::virtio::testing {
namespace {

using blk_spec::RequestType;
using blk_spec::Status;
using block::testing::pattern;

class BlkIoTest : public BlkTest {};

TEST_F(BlkIoTest, ConfigSpaceAndFeatures) {
  start();
  namespace config = blk_spec::config;
  EXPECT_EQ(driver_->read_device_config(config::kCapacity, 8), kDiskSectors);
  EXPECT_EQ(driver_->read_device_config(config::kSegMax, 4), VirtioBlk::kQueueSize - 2u);
  EXPECT_EQ(driver_->read_device_config(config::kBlockSize, 4), 512u);
  EXPECT_EQ(driver_->read_device_config(config::kMaxDiscardSectors, 4), 0x7fffffu);
  EXPECT_EQ(driver_->read_device_config(config::kMaxDiscardSegments, 4), 1u);
  EXPECT_EQ(driver_->read_device_config(config::kDiscardSectorAlignment, 4), 4096u / 512);
  EXPECT_EQ(driver_->read_device_config(config::kMaxWriteZeroesSectors, 4), 0x7fffffu);
  EXPECT_EQ(driver_->read_device_config(config::kMaxWriteZeroesSegments, 4), 1u);
  EXPECT_EQ(driver_->read_device_config(config::kWriteZeroesMayUnmap, 1), 1u);
  // The capacity read as two halves, as a 32-bit driver reads it.
  EXPECT_EQ(driver_->read_device_config(config::kCapacity + 4, 4), 0u);

  const uint64_t offered = driver_->device_features();
  for (unsigned bit :
       {blk_spec::kFeatureSegMax, blk_spec::kFeatureBlockSize, blk_spec::kFeatureFlush,
        blk_spec::kFeatureDiscard, blk_spec::kFeatureWriteZeroes}) {
    EXPECT_NE(offered & feature_bit(bit), 0u) << bit;
  }
  EXPECT_EQ(offered & feature_bit(blk_spec::kFeatureReadOnly), 0u);
}

TEST_F(BlkIoTest, MultiSegmentWriteLandsAtItsSector) {
  start();
  // 1536 bytes in three uneven pieces (none a multiple of 512) for sectors 5-7.
  const std::vector<uint8_t> data = pattern(0, 1536, 3);
  put(kBuffers, std::span(data).subspan(0, 100));
  put(kBuffers + 0x1000, std::span(data).subspan(100, 1000));
  put(kBuffers + 0x3000, std::span(data).subspan(1100, 436));
  const Done done = run({RequestType::kOut,
                         5,
                         {{kBuffers, 100, false},
                          {kBuffers + 0x1000, 1000, false},
                          {kBuffers + 0x3000, 436, false}}});
  EXPECT_EQ(done.status, status_of(Status::kOk));
  EXPECT_EQ(done.used.len, 1u);  // only the status byte was written
  EXPECT_EQ(disk(5 * 512, 1536), data);
  EXPECT_EQ(disk(4 * 512, 512), std::vector<uint8_t>(512, 0));  // neighbours untouched
  EXPECT_EQ(disk(8 * 512, 512), std::vector<uint8_t>(512, 0));
  EXPECT_EQ(blk_->metrics().writes, 1u);
  EXPECT_EQ(blk_->metrics().written_bytes, 1536u);
}

TEST_F(BlkIoTest, MultiSegmentReadDirectAndIndirect) {
  start();
  const std::vector<uint8_t> data = pattern(0, 2048, 9);
  ASSERT_TRUE(image_->write(100 * 512, data).ok());
  for (bool indirect : {false, true}) {
    fill(kBuffers, 0x4000, 0);
    const Done done = run(
        {RequestType::kIn,
         100,
         {{kBuffers, 512, true}, {kBuffers + 0x1000, 1000, true}, {kBuffers + 0x2000, 536, true}},
         indirect});
    EXPECT_EQ(done.status, status_of(Status::kOk)) << indirect;
    EXPECT_EQ(done.used.len, 2048u + 1) << indirect;  // data + status
    std::vector<uint8_t> got = get(kBuffers, 512);
    const std::vector<uint8_t> b = get(kBuffers + 0x1000, 1000);
    const std::vector<uint8_t> c = get(kBuffers + 0x2000, 536);
    got.insert(got.end(), b.begin(), b.end());
    got.insert(got.end(), c.begin(), c.end());
    EXPECT_EQ(got, data) << indirect;
  }
}

TEST_F(BlkIoTest, IndirectWriteAndHeaderSplitAcrossDescriptors) {
  start();
  const std::vector<uint8_t> data = pattern(0, 1024, 4);
  put(kBuffers, data);
  EXPECT_EQ(run({RequestType::kOut, 2, {{kBuffers, 1024, false}}, true}).status,
            status_of(Status::kOk));
  EXPECT_EQ(disk(2 * 512, 1024), data);

  // The header in two 8-byte descriptors, as a driver may split it: still one request.
  std::array<uint8_t, 16> header{};
  store_le<uint32_t>(header.data(), static_cast<uint32_t>(RequestType::kIn));
  store_le<uint64_t>(header.data() + 8, 2);
  put(header_at(1), std::span(header).subspan(0, 8));
  put(header_at(1) + 0x100, std::span(header).subspan(8, 8));
  const uint16_t head = driver_->queue(0).add({{header_at(1), 8, false},
                                               {header_at(1) + 0x100, 8, false},
                                               {kBuffers + 0x2000, 1024, true},
                                               {status_at(1), 1, true}});
  driver_->queue(0).publish();
  driver_->notify(0);
  completions_->run_posted();
  const std::vector<UsedElement> done = used(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, head);
  EXPECT_EQ(get(status_at(1), 1)[0], status_of(Status::kOk));
  EXPECT_EQ(get(kBuffers + 0x2000, 1024), data);
}

TEST_F(BlkIoTest, FlushReachesTheImage) {
  start();
  const uint64_t before = image_->flushes;
  const Done done = run({RequestType::kFlush, 0, {}});
  EXPECT_EQ(done.status, status_of(Status::kOk));
  EXPECT_EQ(done.used.len, 1u);
  EXPECT_EQ(image_->flushes, before + 1);
}

TEST_F(BlkIoTest, GetIdIsTheNulPaddedSerial) {
  start({.read_only = false, .serial = "cella-disk-1"});
  fill(kBuffers, 32, 0xaa);
  Done done = run({RequestType::kGetId, 0, {{kBuffers, blk_spec::kIdBytes, true}}});
  EXPECT_EQ(done.status, status_of(Status::kOk));
  EXPECT_EQ(done.used.len, blk_spec::kIdBytes + 1);
  std::vector<uint8_t> expected(blk_spec::kIdBytes, 0);
  std::memcpy(expected.data(), "cella-disk-1", 12);
  EXPECT_EQ(get(kBuffers, blk_spec::kIdBytes), expected);
  EXPECT_EQ(get(kBuffers + blk_spec::kIdBytes, 1)[0], 0xaa);  // nothing past 20 bytes

  // A shorter buffer gets the leading bytes.
  fill(kBuffers, 32, 0xaa);
  done = run({RequestType::kGetId, 0, {{kBuffers, 5, true}}});
  EXPECT_EQ(done.status, status_of(Status::kOk));
  EXPECT_EQ(done.used.len, 5u + 1);
  EXPECT_EQ(get(kBuffers, 6), (std::vector<uint8_t>{'c', 'e', 'l', 'l', 'a', 0xaa}));
}

TEST_F(BlkIoTest, GetIdOfALongSerialIsTruncatedWithoutNul) {
  start({.read_only = false, .serial = "0123456789abcdefghijKLMN"});
  const Done done = run({RequestType::kGetId, 0, {{kBuffers, 32, true}}});
  EXPECT_EQ(done.status, status_of(Status::kOk));
  const std::vector<uint8_t> id = get(kBuffers, blk_spec::kIdBytes);
  EXPECT_EQ(std::string(id.begin(), id.end()), "0123456789abcdefghij");
}

TEST_F(BlkIoTest, TransfersPastTheEndAreIoErrors) {
  start();
  struct Case {
    RequestType type;
    uint64_t sector;
    uint32_t bytes;
  };
  const Case cases[] = {
      {RequestType::kIn, kDiskSectors - 1, 1024},   // crosses the end
      {RequestType::kIn, kDiskSectors, 512},        // starts at the end
      {RequestType::kOut, kDiskSectors - 1, 1024},  // crosses the end
      {RequestType::kIn, ~uint64_t{0}, 512},        // sector * 512 would wrap
      {RequestType::kOut, uint64_t{1} << 55, 512},  // byte offset would wrap to 0
  };
  for (const Case& c : cases) {
    fill(kBuffers, 1024, 0x5a);
    const Done done = run({c.type, c.sector, {{kBuffers, c.bytes, c.type == RequestType::kIn}}});
    EXPECT_EQ(done.status, status_of(Status::kIoError)) << c.sector;
    EXPECT_EQ(done.used.len, 1u) << c.sector;
  }
  EXPECT_EQ(disk(0, 512), std::vector<uint8_t>(512, 0));  // the wrapped write did not land
  EXPECT_EQ(image_->bytes_written, 0u);
  EXPECT_EQ(blk_->metrics().io_errors, std::size(cases));
  // The last sector itself is fine.
  EXPECT_EQ(run({RequestType::kIn, kDiskSectors - 1, {{kBuffers, 512, true}}}).status,
            status_of(Status::kOk));
}

TEST_F(BlkIoTest, TransfersThatAreNotWholeSectorsAreIoErrors) {
  start();
  put(kBuffers, pattern(0, 1024, 1));
  EXPECT_EQ(run({RequestType::kOut, 0, {{kBuffers, 500, false}}}).status,
            status_of(Status::kIoError));
  EXPECT_EQ(run({RequestType::kIn, 0, {{kBuffers, 512, true}, {kBuffers + 512, 1, true}}}).status,
            status_of(Status::kIoError));
  EXPECT_EQ(image_->bytes_written, 0u);
}

TEST_F(BlkIoTest, ReadOnlyDiskRefusesWritesAndSaysSo) {
  start({.read_only = true, .serial = ""});
  const uint64_t offered = driver_->device_features();
  EXPECT_NE(offered & feature_bit(blk_spec::kFeatureReadOnly), 0u);
  EXPECT_EQ(offered & feature_bit(blk_spec::kFeatureDiscard), 0u);
  EXPECT_EQ(offered & feature_bit(blk_spec::kFeatureWriteZeroes), 0u);
  put(kBuffers, pattern(0, 512, 2));
  EXPECT_EQ(run({RequestType::kOut, 0, {{kBuffers, 512, false}}}).status,
            status_of(Status::kIoError));
  EXPECT_EQ(disk(0, 512), std::vector<uint8_t>(512, 0));
  EXPECT_EQ(run({RequestType::kIn, 0, {{kBuffers, 512, true}}}).status, status_of(Status::kOk));
}

TEST_F(BlkIoTest, ReadOnlyImageMakesAReadOnlyDevice) {
  start({}, /*image_read_only=*/true);
  EXPECT_NE(driver_->device_features() & feature_bit(blk_spec::kFeatureReadOnly), 0u);
  EXPECT_EQ(run({RequestType::kOut, 0, {{kBuffers, 512, false}}}).status,
            status_of(Status::kIoError));
}

TEST_F(BlkIoTest, StatusByteIsReportedAsADmaWriteAfterAShortTransfer) {
  start();
  std::vector<std::pair<uint64_t, uint64_t>> writes;
  memory_.set_dma_write_observer(
      [&writes](uint64_t guest, uint64_t bytes) { writes.emplace_back(guest, bytes); });
  auto covered = [&writes](uint64_t guest) {
    return std::any_of(writes.begin(), writes.end(), [guest](const auto& w) {
      return guest >= w.first && guest < w.first + w.second;
    });
  };
  // A read past the end writes only the status byte, behind an untouched 512-byte buffer
  // (the software CPU must drop decoded code on the status byte's page).
  EXPECT_EQ(run({RequestType::kIn, kDiskSectors, {{kBuffers, 512, true}}}).status,
            status_of(Status::kIoError));
  EXPECT_TRUE(covered(status_at(0)));
  writes.clear();
  EXPECT_EQ(run({RequestType::kGetId, 0, {{kBuffers, 64, true}}}).status, status_of(Status::kOk));
  EXPECT_TRUE(covered(status_at(0)));
  EXPECT_TRUE(covered(kBuffers + blk_spec::kIdBytes - 1));
  memory_.set_dma_write_observer({});
}

TEST_F(BlkIoTest, UnknownRequestTypesAreUnsupported) {
  start();
  for (uint32_t type : {2u, 7u, 10u, 14u, 0x80000000u, 0xffffffffu}) {
    const Done done = run({RequestType::kIn, 0, {{kBuffers, 512, true}}, false, 0, type});
    EXPECT_EQ(done.status, status_of(Status::kUnsupported)) << type;
    EXPECT_EQ(done.used.len, 1u) << type;
  }
  EXPECT_EQ(blk_->metrics().unsupported, 6u);
}

TEST_F(BlkIoTest, HeaderShorterThan16BytesIsAnIoError) {
  start();
  put(header_at(0), std::vector<uint8_t>(8, 0));
  put(status_at(0), std::vector<uint8_t>{kStatusUnset});
  driver_->queue(0).add({{header_at(0), 8, false}, {status_at(0), 1, true}});
  driver_->queue(0).publish();
  driver_->notify(0);
  completions_->run_posted();
  const std::vector<UsedElement> done = used(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].len, 1u);
  EXPECT_EQ(get(status_at(0), 1)[0], status_of(Status::kIoError));
  EXPECT_EQ(driver_->status() & status::kDeviceNeedsReset, 0);
}

TEST_F(BlkIoTest, ChainWithoutAWritableByteIsADriverError) {
  start();
  put(header_at(0), std::vector<uint8_t>(16, 0));
  driver_->queue(0).add({{header_at(0), 16, false}, {kBuffers, 512, false}});
  driver_->queue(0).publish();
  driver_->notify(0);
  completions_->run_posted();
  EXPECT_EQ(driver_->queue(0).used_idx(), 0u);
  EXPECT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
  EXPECT_EQ(driver_->read_isr(), pci_layout::kIsrConfig);
}

}  // namespace
}  // namespace cella::virtio::testing
