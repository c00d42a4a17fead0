// virtio-blk behind the PCI transport, on a 1 MiB in-memory disk (the block tests' MemoryImage,
// 4 KiB clusters), with work run inline and completions drained by the test. Requests are
// built as Linux's virtio_blk builds them (virtio 1.2 5.2.6): a 16-byte device-readable header,
// the data buffers, and a 1-byte device-writable status.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "devices/io_thread.h"
#include "tests/unit/block/memory_image.h"
#include "tests/unit/virtio/pci_fixture.h"
#include "virtio/blk/virtio_blk.h"

namespace cella::virtio::testing {

inline constexpr uint64_t kDiskSize = 1 << 20;
inline constexpr uint64_t kDiskSectors = kDiskSize / blk_spec::kSectorSize;
inline constexpr uint64_t kHeaders = kDataArea;            // slot i: header, then status
inline constexpr uint64_t kSlotSize = 32;                  // at +16
inline constexpr uint64_t kBuffers = kDataArea + 0x10000;  // data buffers
inline constexpr uint8_t kStatusUnset = 0xee;              // never a status value

// One request: its type and sector, its data buffers (the caller sets `writable` as the type
// requires), and where its header and status go.
struct BlkCall {
  blk_spec::RequestType type = blk_spec::RequestType::kIn;
  uint64_t sector = 0;
  std::vector<Buffer> data;
  bool indirect = false;
  unsigned slot = 0;
  uint32_t raw_type = 0;  // used instead of `type` when non-zero
};

class BlkTest : public PciDeviceTest {
 protected:
  void SetUp() override {
    PciDeviceTest::SetUp();
    auto completions = devices::CompletionQueue::create();
    ASSERT_TRUE(completions.ok());
    completions_ = std::move(*completions);
    inline_work_ = std::make_unique<devices::InlineWorkQueue>(*completions_);
  }

  // Creates the disk and the device (on `work`, inline by default), brings the driver up with
  // every offered feature it knows.
  void start(BlkOptions options = {}, bool image_read_only = false,
             devices::WorkQueue* work = nullptr) {
    auto image = std::make_unique<block::testing::MemoryImage>("disk", kDiskSize);
    image->set_read_only(image_read_only);
    image_ = image.get();
    blk_ = std::make_unique<VirtioBlk>(std::move(image), work ? *work : *inline_work_, options);
    attach(*blk_);
    bring_up(1, ~uint64_t{0} & ~feature_bit(feature::kEventIndex));
  }

  static uint64_t header_at(unsigned slot) { return kHeaders + slot * kSlotSize; }
  static uint64_t status_at(unsigned slot) { return header_at(slot) + blk_spec::kHeaderSize; }

  // Writes the header, adds the chain and makes it available (no doorbell).
  uint16_t add(const BlkCall& call) {
    std::array<uint8_t, blk_spec::kHeaderSize> header{};
    store_le<uint32_t>(header.data(),
                       call.raw_type != 0 ? call.raw_type : static_cast<uint32_t>(call.type));
    store_le<uint64_t>(header.data() + 8, call.sector);
    put(header_at(call.slot), header);
    put(status_at(call.slot), std::vector<uint8_t>{kStatusUnset});
    std::vector<Buffer> chain{{header_at(call.slot), blk_spec::kHeaderSize, false}};
    chain.insert(chain.end(), call.data.begin(), call.data.end());
    chain.push_back({status_at(call.slot), 1, true});
    const uint16_t head = driver_->queue(0).add(chain, call.indirect);
    driver_->queue(0).publish();
    return head;
  }

  // Submits one request, rings, runs completions; returns its used element and status.
  struct Done {
    UsedElement used;
    uint8_t status = kStatusUnset;
  };
  Done run(const BlkCall& call) {
    const uint16_t head = add(call);
    driver_->notify(0);
    completions_->run_posted();
    const std::vector<UsedElement> done = used(0);
    EXPECT_EQ(done.size(), 1u);
    if (done.empty()) return {};
    EXPECT_EQ(done[0].id, head);
    return {done[0], get(status_at(call.slot), 1)[0]};
  }

  static uint8_t status_of(blk_spec::Status s) { return static_cast<uint8_t>(s); }

  std::vector<uint8_t> disk(uint64_t offset, size_t length) {
    std::vector<uint8_t> bytes(length);
    EXPECT_TRUE(image_->read(offset, bytes).ok());
    return bytes;
  }

  std::unique_ptr<devices::CompletionQueue> completions_;
  std::unique_ptr<devices::InlineWorkQueue> inline_work_;
  block::testing::MemoryImage* image_ = nullptr;  // owned by blk_
  std::unique_ptr<VirtioBlk> blk_;
};

}  // namespace cella::virtio::testing
