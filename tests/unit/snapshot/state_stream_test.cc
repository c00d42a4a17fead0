#include "snapshot/state_stream.h"

#include <gtest/gtest.h>

#include <array>

namespace cella::snapshot {
namespace {

std::vector<uint8_t> sample() {
  StateWriter w;
  w.begin_section("outer", 2);
  w.u8(0x12);
  w.u16(0x3456);
  w.begin_section("inner", 1);
  w.u32(0x789abcde);
  w.end_section();
  w.u64(0x0123456789abcdefULL);
  w.boolean(true);
  const std::array<uint8_t, 3> raw{1, 2, 3};
  w.bytes(raw);
  w.end_section();
  return w.data();
}

TEST(StateStream, RoundTripsNestedSections) {
  const auto data = sample();
  StateReader r(data);
  auto version = r.begin_section("outer", 3);
  ASSERT_TRUE(version.ok()) << version.error().message();
  EXPECT_EQ(*version, 2u);
  EXPECT_EQ(*r.u8(), 0x12);
  EXPECT_EQ(*r.u16(), 0x3456);
  ASSERT_TRUE(r.begin_section("inner", 1).ok());
  EXPECT_EQ(*r.u32(), 0x789abcdeu);
  ASSERT_TRUE(r.end_section().ok());
  EXPECT_EQ(*r.u64(), 0x0123456789abcdefULL);
  EXPECT_TRUE(*r.boolean());
  std::array<uint8_t, 3> raw{};
  ASSERT_TRUE(r.bytes(raw).ok());
  EXPECT_EQ(raw, (std::array<uint8_t, 3>{1, 2, 3}));
  ASSERT_TRUE(r.end_section().ok());
  EXPECT_TRUE(r.at_end());
}

TEST(StateStream, IsLittleEndianWithLengthPrefixedSections) {
  StateWriter w;
  w.begin_section("ab", 1);
  w.u16(0x0102);
  w.end_section();
  const std::vector<uint8_t> expected{2, 0, 'a', 'b', 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 1};
  EXPECT_EQ(w.data(), expected);
}

TEST(StateStream, RefusesWrongNameNewerVersionAndUnreadBytes) {
  const auto data = sample();
  {
    StateReader r(data);
    auto v = r.begin_section("other", 3);
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message().find("expected section 'other', found 'outer'"),
              std::string::npos);
  }
  {
    StateReader r(data);
    auto v = r.begin_section("outer", 1);
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message().find("version 2"), std::string::npos);
  }
  {
    StateReader r(data);
    ASSERT_TRUE(r.begin_section("outer", 2).ok());
    EXPECT_EQ(*r.u8(), 0x12);
    auto end = r.end_section();
    ASSERT_FALSE(end.ok());
    EXPECT_NE(end.error().message().find("unread"), std::string::npos);
  }
}

TEST(StateStream, EveryTruncationIsAnErrorNeverAnOverread) {
  const auto data = sample();
  for (size_t cut = 0; cut < data.size(); ++cut) {
    StateReader r(std::span(data.data(), cut));
    bool failed = false;
    auto step = [&](auto result) {
      if (!result.ok()) failed = true;
      return !failed;
    };
    step(r.begin_section("outer", 2)) && step(r.u8()) && step(r.u16()) &&
        step(r.begin_section("inner", 1)) && step(r.u32()) && step(r.end_section()) &&
        step(r.u64()) && step(r.boolean());
    EXPECT_TRUE(failed) << "cut at " << cut;
  }
}

TEST(StateStream, SectionLengthBeyondTheStreamIsRefused) {
  auto data = sample();
  data[2 + 5 + 4] = 0xff;  // outer's payload length, low byte
  data[2 + 5 + 4 + 7] = 0x7f;
  StateReader r(data);
  auto v = r.begin_section("outer", 2);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("claims"), std::string::npos);
}

}  // namespace
}  // namespace cella::snapshot
