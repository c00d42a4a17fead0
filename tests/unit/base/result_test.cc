#include "base/result.h"

#include <gtest/gtest.h>

#include "base/bits.h"

namespace cella {
namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return make_error("{} is not positive", value);
  return value;
}

Result<int> doubled(int value) {
  CELLA_TRY_ASSIGN(parsed, parse_positive(value));
  return parsed * 2;
}

TEST(Result, CarriesValueOrError) {
  EXPECT_EQ(*doubled(21), 42);
  auto failed = doubled(-1);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(), "-1 is not positive");
  EXPECT_EQ(failed.error().context("parsing").message(), "parsing: -1 is not positive");
}

TEST(Bits, ExtractsAndSignExtends) {
  EXPECT_EQ(bits(0xABCD, 4, 8), 0xBCu);
  EXPECT_EQ(sign_extend(0x80, 8), -128);
  EXPECT_EQ(sign_extend(0x7f, 8), 127);
  EXPECT_EQ(byteswap<uint32_t>(0x11223344), 0x44332211u);
  uint8_t buffer[4];
  store_be<uint32_t>(buffer, 0x01020304);
  EXPECT_EQ(buffer[0], 1);
  EXPECT_EQ(load_be<uint32_t>(buffer), 0x01020304u);
  EXPECT_EQ(align_up(5, 4), 8u);
}

}  // namespace
}  // namespace cella
