// A function's configuration space: header write masks, BAR sizing and the BAR listener,
// capabilities, snapshot.
#include "pci/config_space.h"

#include <gtest/gtest.h>

#include <vector>

namespace cella::pci {
namespace {

constexpr FunctionIdentity kNic{
    .vendor_id = 0x1af4, .device_id = 0x1041, .base_class = 0x02, .subclass = 0x00};

TEST(ConfigSpace, HeaderFieldsAndWriteMasks) {
  ConfigSpace c(kNic);
  EXPECT_EQ(c.size(), 4096u);
  EXPECT_EQ(c.read(reg::kVendorId, 4), 0x10411af4u);
  EXPECT_EQ(c.read(reg::kDeviceId, 2), 0x1041u);
  EXPECT_EQ(c.read(0x08, 4), 0x02000000u);  // class 02/00/00, revision 0
  c.write(reg::kVendorId, 4, 0);
  EXPECT_EQ(c.read(reg::kVendorId, 4), 0x10411af4u);  // read-only
  c.write(reg::kCommand, 2, 0xffff);
  EXPECT_EQ(c.read(reg::kCommand, 2), 0x0547u);  // the implemented command bits
  c.write(reg::kInterruptLine, 1, 0x0b);
  EXPECT_EQ(c.read(reg::kInterruptLine, 1), 0x0bu);
  c.write(reg::kInterruptPin, 1, 0x03);
  EXPECT_EQ(c.read(reg::kInterruptPin, 1), 0u);
  EXPECT_EQ(c.read(4094, 4), 0u);  // past the end reads zero
  c.write(4095, 4, 0xffffffff);    // and drops
}

TEST(ConfigSpace, StatusErrorBitsAreWriteOneToClear) {
  ConfigSpace c(kNic);
  c.set_u16(reg::kStatus, 0xf900 | kStatusInterrupt);  // the device reports errors
  c.write(reg::kStatus, 2, 0x0100);                    // clear one
  EXPECT_EQ(c.read(reg::kStatus, 2), 0xf800u | kStatusInterrupt);
  c.write(reg::kCommand, 4, 0xffff0000);  // command unchanged, all error bits cleared
  EXPECT_EQ(c.read(reg::kStatus, 2), kStatusInterrupt);  // interrupt status is read-only
}

TEST(ConfigSpace, BarSizingReadsTheSizeMask) {
  ConfigSpace c(kNic);
  ASSERT_TRUE(c.add_bar(0, BarKind::kMemory32, 0x1000).ok());
  ASSERT_TRUE(c.add_bar(1, BarKind::kIo, 0x20).ok());
  ASSERT_TRUE(c.add_bar(2, BarKind::kMemory64, 1 << 20, true).ok());
  EXPECT_EQ(c.read(0x10, 4), 0x0u);
  EXPECT_EQ(c.read(0x14, 4), 0x1u);
  EXPECT_EQ(c.read(0x18, 4), 0xcu);  // 64-bit, prefetchable
  for (uint16_t bar = 0x10; bar < 0x28; bar += 4) c.write(bar, 4, 0xffffffff);
  EXPECT_EQ(c.read(0x10, 4), 0xfffff000u);
  EXPECT_EQ(c.read(0x14, 4), 0xffffffe1u);
  EXPECT_EQ(c.read(0x18, 4), 0xfff0000cu);
  EXPECT_EQ(c.read(0x1c, 4), 0xffffffffu);
  EXPECT_EQ(c.read(0x20, 4), 0u);  // no BAR 4 or 5
  EXPECT_EQ(c.read(0x24, 4), 0u);
}

TEST(ConfigSpace, InvalidBarsAreRefused) {
  ConfigSpace c(kNic);
  EXPECT_FALSE(c.add_bar(0, BarKind::kMemory32, 0x1800).ok());  // not a power of two
  EXPECT_FALSE(c.add_bar(0, BarKind::kMemory32, 8).ok());       // below 16
  EXPECT_FALSE(c.add_bar(0, BarKind::kIo, 512).ok());           // I/O above 256
  EXPECT_FALSE(c.add_bar(5, BarKind::kMemory64, 0x1000).ok());  // needs two slots
  EXPECT_FALSE(c.add_bar(6, BarKind::kMemory32, 0x1000).ok());
  ASSERT_TRUE(c.add_bar(2, BarKind::kMemory64, 0x1000).ok());
  EXPECT_FALSE(c.add_bar(3, BarKind::kIo, 0x10).ok());  // taken by BAR 2's high half
  EXPECT_FALSE(c.add_bar(2, BarKind::kIo, 0x10).ok());
}

TEST(ConfigSpace, BarListenerSeesMovesAndDecodeChanges) {
  ConfigSpace c(kNic);
  ASSERT_TRUE(c.add_bar(0, BarKind::kMemory32, 0x1000).ok());
  ASSERT_TRUE(c.add_bar(1, BarKind::kIo, 0x20).ok());
  ASSERT_TRUE(c.add_bar(2, BarKind::kMemory64, 0x4000).ok());
  std::vector<BarChange> changes;
  c.set_bar_listener([&](const BarChange& change) { changes.push_back(change); });
  c.write(0x10, 4, 0xc0000000);
  c.write(0x14, 4, 0xc000);
  c.write(0x18, 4, 0x00010000);
  c.write(0x1c, 4, 0x1);
  EXPECT_TRUE(changes.empty());  // decoding is off
  c.write(reg::kCommand, 2, kCommandMemorySpace);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].index, 0u);
  EXPECT_EQ(changes[0].old_base, std::nullopt);
  EXPECT_EQ(changes[0].new_base, std::optional<uint64_t>(0xc0000000));
  EXPECT_EQ(changes[0].size, 0x1000u);
  EXPECT_EQ(changes[1].index, 2u);
  EXPECT_EQ(changes[1].new_base, std::optional<uint64_t>(0x100010000));
  EXPECT_EQ(c.bar_base(1), std::nullopt);  // I/O decoding still off
  c.write(reg::kCommand, 2, kCommandMemorySpace | kCommandIoSpace);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[2].kind, BarKind::kIo);
  EXPECT_EQ(changes[2].new_base, std::optional<uint64_t>(0xc000));
  c.write(0x10, 4, 0xc0002000);  // a move
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[3].old_base, std::optional<uint64_t>(0xc0000000));
  EXPECT_EQ(changes[3].new_base, std::optional<uint64_t>(0xc0002000));
  c.write(0x10, 4, 0xffffffff);  // sizing with decode on: the all-ones address is unusable
  ASSERT_EQ(changes.size(), 5u);
  EXPECT_EQ(changes[4].new_base, std::nullopt);
  c.write(0x10, 4, 0xc0002000);
  c.write(reg::kCommand, 2, 0);  // everything stops decoding
  EXPECT_EQ(changes.size(), 9u);
  EXPECT_EQ(changes.back().new_base, std::nullopt);
}

TEST(ConfigSpace, CapabilityListIsChained) {
  ConfigSpace c(kNic);
  EXPECT_EQ(c.add_capability(0x11, 12), 0x40);  // MSI-X
  EXPECT_EQ(c.add_capability(0x09, 6), 0x4c);   // vendor-specific, dword aligned
  EXPECT_EQ(c.read(reg::kCapabilitiesPointer, 1), 0x40u);
  EXPECT_EQ(c.read(0x40, 2), 0x4c11u);  // ID, next
  EXPECT_EQ(c.read(0x4c, 2), 0x0009u);  // the end of the list
  EXPECT_NE(c.read(reg::kStatus, 2) & kStatusCapabilitiesList, 0u);
  EXPECT_EQ(c.add_capability(0x10, 200), 0);  // does not fit in 256 bytes
  EXPECT_EQ(c.add_capability(0x10, 1), 0);
}

TEST(ConfigSpace, SnapshotRoundTripAndIdentityCheck) {
  ConfigSpace a(kNic);
  ASSERT_TRUE(a.add_bar(0, BarKind::kMemory32, 0x1000).ok());
  a.write(0x10, 4, 0xc0000000);
  a.write(reg::kCommand, 2, kCommandMemorySpace | kCommandBusMaster);
  a.write(reg::kInterruptLine, 1, 11);
  snapshot::StateWriter out;
  a.save(out);

  ConfigSpace b(kNic);
  ASSERT_TRUE(b.add_bar(0, BarKind::kMemory32, 0x1000).ok());
  std::vector<BarChange> changes;
  b.set_bar_listener([&](const BarChange& change) { changes.push_back(change); });
  snapshot::StateReader in(out.data());
  ASSERT_TRUE(b.load(in).ok());
  EXPECT_TRUE(std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin()));
  ASSERT_EQ(changes.size(), 1u);  // the machine learns where to map the restored BAR
  EXPECT_EQ(changes[0].new_base, std::optional<uint64_t>(0xc0000000));
  b.write(0x10, 4, 0xffffffff);
  EXPECT_EQ(b.read(0x10, 4), 0xfffff000u);  // the BAR still sizes

  ConfigSpace other({.vendor_id = 0x8086, .device_id = 0x100e, .base_class = 2, .subclass = 0});
  snapshot::StateReader again(out.data());
  const auto result = other.load(again);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("another device"), std::string::npos);
  ConfigSpace small(kNic, ConfigSpace::kConventionalSize);
  snapshot::StateReader third(out.data());
  EXPECT_FALSE(small.load(third).ok());
}

}  // namespace
}  // namespace cella::pci

namespace cella::pci {
namespace {

TEST(ConfigSpace, BarDefinitionsNameKindAndSize) {
  ConfigSpace c(kNic);
  ASSERT_TRUE(c.add_bar(0, BarKind::kMemory64, 0x4000).ok());
  ASSERT_TRUE(c.add_bar(3, BarKind::kIo, 0x20).ok());
  ASSERT_TRUE(c.bar_definition(0));
  EXPECT_EQ(c.bar_definition(0)->kind, BarKind::kMemory64);
  EXPECT_EQ(c.bar_definition(0)->size, 0x4000u);
  EXPECT_FALSE(c.bar_definition(1));  // the upper half of BAR 0
  EXPECT_FALSE(c.bar_definition(2));  // absent
  EXPECT_EQ(c.bar_definition(3)->kind, BarKind::kIo);
  EXPECT_FALSE(c.bar_definition(6));
}

}  // namespace
}  // namespace cella::pci
