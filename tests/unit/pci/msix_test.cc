// MSI-X: the capability's fields, the table and PBA through their registers, and the delivery
// rule (enable, function mask, vector mask, pending bits delivered on unmask).
#include "pci/msix.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace cella::pci {
namespace {

constexpr FunctionIdentity kFunction{
    .vendor_id = 0x1af4, .device_id = 0x1042, .base_class = 0x01, .subclass = 0x80};

struct RecordingSink final : MsiSink {
  void send_msi(uint64_t address, uint32_t data) override { messages.emplace_back(address, data); }
  std::vector<std::pair<uint64_t, uint32_t>> messages;
};

class MsixTest : public testing::Test {
 protected:
  void SetUp() override {
    auto created = Msix::create(config, 3, 2, 0x4000, 0x6000, &sink);
    ASSERT_TRUE(created) << created.error().message();
    msix.emplace(std::move(*created));
    capability = config.u8(reg::kCapabilitiesPointer);
  }
  void write_table(uint64_t offset, uint32_t value) {
    uint8_t bytes[4] = {static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
                        static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)};
    msix->write_table(offset, bytes);
  }
  uint32_t read_table(uint64_t offset) {
    uint8_t bytes[4];
    msix->read_table(offset, bytes);
    return bytes[0] | bytes[1] << 8 | bytes[2] << 16 | static_cast<uint32_t>(bytes[3]) << 24;
  }
  void program(unsigned vector, uint32_t address, uint32_t data, bool masked) {
    write_table(vector * 16 + 0, address);
    write_table(vector * 16 + 4, 0);
    write_table(vector * 16 + 8, data);
    write_table(vector * 16 + 12, masked ? 1 : 0);
  }
  void set_control(uint16_t control) {
    config.write(capability + msix_reg::kMessageControl, 2, control);
    msix->config_written();
  }
  uint64_t pba() {
    uint8_t bytes[8];
    msix->read_pba(0, bytes);
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= uint64_t{bytes[i]} << (8 * i);
    return value;
  }

  ConfigSpace config{kFunction};
  RecordingSink sink;
  std::optional<Msix> msix;
  uint8_t capability = 0;
};

TEST_F(MsixTest, CapabilityDescribesTableAndPba) {
  ASSERT_NE(capability, 0);
  EXPECT_EQ(config.u8(capability), msix_reg::kCapabilityId);
  EXPECT_EQ(config.read(capability + msix_reg::kMessageControl, 2), 2u);  // N - 1, disabled
  EXPECT_EQ(config.read(capability + msix_reg::kTableOffset, 4), 0x4000u | 2);
  EXPECT_EQ(config.read(capability + msix_reg::kPbaOffset, 4), 0x6000u | 2);
  // The table size is read-only; enable and function mask are writable.
  config.write(capability + msix_reg::kMessageControl, 2, 0xffff);
  EXPECT_EQ(config.read(capability + msix_reg::kMessageControl, 2), 0xc002u);
  EXPECT_EQ(msix->table_bytes(), 48u);
  EXPECT_EQ(msix->pba_bytes(), 8u);
}

TEST_F(MsixTest, VectorsStartMaskedAndTableReadsBack) {
  EXPECT_EQ(read_table(12), 1u);  // 6.8.2.9: masked after reset
  program(1, 0xfee01000, 0x4031, false);
  EXPECT_EQ(read_table(16), 0xfee01000u);
  EXPECT_EQ(read_table(24), 0x4031u);
  write_table(28, 0xfffffffe);  // reserved bits read zero
  EXPECT_EQ(read_table(28), 0u);
  uint8_t wide[8];
  msix->read_table(16, wide);  // a QWORD access covers address low and high
  EXPECT_EQ(wide[1], 0x10);
  EXPECT_EQ(wide[3], 0xfe);
}

TEST_F(MsixTest, NothingIsSentWhileDisabledButThePendingBitHoldsIt) {
  program(0, 0xfee00000, 0x41, false);
  msix->signal(0);
  EXPECT_TRUE(sink.messages.empty());
  EXPECT_EQ(pba(), 1u);
  set_control(msix_reg::kEnable);  // enabling delivers what was pending
  ASSERT_EQ(sink.messages.size(), 1u);
  EXPECT_EQ(sink.messages[0], std::make_pair(uint64_t{0xfee00000}, uint32_t{0x41}));
  EXPECT_EQ(pba(), 0u);
}

TEST_F(MsixTest, EnabledUnmaskedVectorSendsItsMessage) {
  set_control(msix_reg::kEnable);
  program(2, 0xfee00000, 0x52, false);
  msix->signal(2);
  msix->signal(2);
  ASSERT_EQ(sink.messages.size(), 2u);
  EXPECT_EQ(sink.messages[1].second, 0x52u);
  msix->signal(7);  // no such vector
  EXPECT_EQ(sink.messages.size(), 2u);
}

TEST_F(MsixTest, VectorMaskDefersUntilUnmasked) {
  set_control(msix_reg::kEnable);
  program(1, 0xfee00000, 0x61, true);
  msix->signal(1);
  EXPECT_TRUE(sink.messages.empty());
  EXPECT_TRUE(msix->pending(1));
  EXPECT_EQ(pba(), 2u);
  write_table(16 + 12, 0);  // unmask
  ASSERT_EQ(sink.messages.size(), 1u);
  EXPECT_EQ(sink.messages[0].second, 0x61u);
  EXPECT_FALSE(msix->pending(1));
}

TEST_F(MsixTest, FunctionMaskDefersEveryVector) {
  set_control(msix_reg::kEnable | msix_reg::kFunctionMask);
  program(0, 0xfee00000, 0x30, false);
  program(2, 0xfee00000, 0x32, false);
  msix->signal(0);
  msix->signal(2);
  EXPECT_TRUE(sink.messages.empty());
  EXPECT_EQ(pba(), 5u);
  set_control(msix_reg::kEnable);
  EXPECT_EQ(sink.messages.size(), 2u);
  EXPECT_EQ(pba(), 0u);
}

TEST_F(MsixTest, MisalignedOrOddSizedAccessesAreIgnored) {
  program(0, 0xfee00000, 0x41, false);
  uint8_t two[2] = {0xff, 0xff};
  msix->write_table(8, two);
  EXPECT_EQ(read_table(8), 0x41u);
  write_table(2, 0x1234);  // misaligned
  EXPECT_EQ(read_table(0), 0xfee00000u);
  write_table(48, 5);  // past the table
  uint8_t bytes[4];
  msix->read_table(48, bytes);
  EXPECT_EQ(bytes[0], 0);
}

TEST_F(MsixTest, SnapshotRoundTripKeepsTableAndPendingBits) {
  program(1, 0xfee02000, 0x77, true);
  msix->signal(1);
  snapshot::StateWriter out;
  msix->save(out);
  ConfigSpace other_config{kFunction};
  auto other = Msix::create(other_config, 3, 2, 0x4000, 0x6000, &sink);
  ASSERT_TRUE(other);
  snapshot::StateReader in(out.data());
  ASSERT_TRUE(other->load(in));
  EXPECT_TRUE(other->pending(1));
  uint8_t bytes[4];
  other->read_table(24, bytes);
  EXPECT_EQ(bytes[0], 0x77);
  // A table of another size is refused.
  ConfigSpace small_config{kFunction};
  auto small = Msix::create(small_config, 2, 2, 0x4000, 0x6000, &sink);
  snapshot::StateReader again(out.data());
  EXPECT_FALSE(small->load(again));
}

TEST(Msix, CreateRefusesBadGeometry) {
  ConfigSpace config{kFunction};
  EXPECT_FALSE(Msix::create(config, 0, 0, 0, 0x800, nullptr));
  EXPECT_FALSE(Msix::create(config, 2049, 0, 0, 0x800, nullptr));
  EXPECT_FALSE(Msix::create(config, 4, 6, 0, 0x800, nullptr));
  EXPECT_FALSE(Msix::create(config, 4, 0, 4, 0x800, nullptr));
}

}  // namespace
}  // namespace cella::pci
