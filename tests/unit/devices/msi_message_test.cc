// MSI address/data decoding into APIC bus messages (SDM Vol. 3A 11.11).
#include "devices/lapic/msi_message.h"

#include <gtest/gtest.h>

namespace cella::devices {
namespace {

TEST(DecodeMsi, FixedPhysicalEdge) {
  // Linux's usual message: destination APIC ID 3, physical, fixed, edge, vector 0x41.
  auto message = decode_msi(0xfee03000, 0x0041);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->vector, 0x41);
  EXPECT_EQ(message->mode, DeliveryMode::kFixed);
  EXPECT_FALSE(message->logical);
  EXPECT_FALSE(message->level_triggered);
  EXPECT_EQ(message->destination, 3u);
  EXPECT_FALSE(message->x2apic_format);
}

TEST(DecodeMsi, LogicalLowestPriorityLevel) {
  auto message = decode_msi(0xfee0f004, 0xc1a2);  // DM=1; data: level, assert, mode 1
  ASSERT_TRUE(message);
  EXPECT_TRUE(message->logical);
  EXPECT_EQ(message->destination, 0x0fu);
  EXPECT_EQ(message->mode, DeliveryMode::kLowestPriority);
  EXPECT_TRUE(message->level_triggered);
  EXPECT_TRUE(message->assert_level);
  EXPECT_EQ(message->vector, 0xa2);
}

TEST(DecodeMsi, RedirectionHintWithLogicalModeMeansLowestPriority) {
  auto message = decode_msi(0xfee0100c, 0x0030);  // RH=1, DM=1, fixed
  ASSERT_TRUE(message);
  EXPECT_EQ(message->mode, DeliveryMode::kLowestPriority);
  auto physical = decode_msi(0xfee01008, 0x0030);  // RH=1, DM=0: no effect
  ASSERT_TRUE(physical);
  EXPECT_EQ(physical->mode, DeliveryMode::kFixed);
}

TEST(DecodeMsi, NmiDeliveryMode) {
  auto message = decode_msi(0xfee00000, 0x0400);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->mode, DeliveryMode::kNmi);
}

TEST(DecodeMsi, WritesOutsideTheInterruptWindowAreNotInterrupts) {
  EXPECT_FALSE(decode_msi(0xfed00000, 0x41));
  EXPECT_FALSE(decode_msi(0x1'fee00000, 0x41));
  EXPECT_FALSE(decode_msi(0, 0));
}

}  // namespace
}  // namespace cella::devices
