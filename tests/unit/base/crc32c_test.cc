#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace cella {
namespace {

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c(bytes("123456789")), 0xE3069283u);  // RFC 3720 B.4 / the CRC catalogue
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(Crc32c, KnownVectorsFromRfc3720) {
  std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xFF), ascending(32);
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
}

TEST(Crc32c, ContinuesAcrossPieces) {
  const std::string_view text = "the quick brown fox jumps over the lazy dog";
  const uint32_t whole = crc32c(bytes(text));
  for (size_t split = 0; split <= text.size(); ++split) {
    EXPECT_EQ(crc32c(bytes(text.substr(split)), crc32c(bytes(text.substr(0, split)))), whole);
  }
}

}  // namespace
}  // namespace cella
