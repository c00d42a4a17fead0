#include "base/utf16.h"

#include <gtest/gtest.h>

namespace cella {
namespace {

TEST(Utf16, RoundTripsBothByteOrders) {
  const std::string text = "C:\\VMs\\diskÿ€😀.vhd";
  for (ByteOrder order : {ByteOrder::kLittle, ByteOrder::kBig}) {
    auto encoded = utf8_to_utf16(text, order);
    ASSERT_TRUE(encoded.ok());
    auto decoded = utf16_to_utf8(*encoded, order);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, text);
  }
}

TEST(Utf16, ByteOrderAndTerminator) {
  const uint8_t little[] = {'a', 0, 'b', 0, 0, 0, 'c', 0};
  const uint8_t big[] = {0, 'a', 0, 'b', 0, 0};
  EXPECT_EQ(*utf16_to_utf8(little, ByteOrder::kLittle), "ab");
  EXPECT_EQ(*utf16_to_utf8(big, ByteOrder::kBig), "ab");
  auto encoded = utf8_to_utf16("A", ByteOrder::kBig);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded, (std::vector<uint8_t>{0, 'A'}));
}

TEST(Utf16, RejectsBrokenInput) {
  const uint8_t lone_high[] = {0x00, 0xD8, 'a', 0};
  const uint8_t lone_low[] = {0x00, 0xDC};
  EXPECT_FALSE(utf16_to_utf8(lone_high, ByteOrder::kLittle).ok());
  EXPECT_FALSE(utf16_to_utf8(lone_low, ByteOrder::kLittle).ok());
  EXPECT_FALSE(utf8_to_utf16("\xC3", ByteOrder::kLittle).ok());          // truncated
  EXPECT_FALSE(utf8_to_utf16("\xC0\x80", ByteOrder::kLittle).ok());      // overlong
  EXPECT_FALSE(utf8_to_utf16("\xED\xA0\x80", ByteOrder::kLittle).ok());  // surrogate
}

}  // namespace
}  // namespace cella
