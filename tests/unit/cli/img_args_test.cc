#include "cli/img_args.h"

#include <gtest/gtest.h>

#include "cli/img_common.h"

namespace cella::cli {
namespace {

TEST(ParseSize, AcceptsQemuImgSpellings) {
  struct Case {
    const char* text;
    uint64_t bytes;
  };
  const Case cases[] = {
      {"0", 0},
      {"512", 512},
      {"1k", 1024},
      {"1K", 1024},
      {"10M", 10 << 20},
      {"2G", uint64_t{2} << 30},
      {"1T", uint64_t{1} << 40},
      {"1P", uint64_t{1} << 50},
      {"4E", uint64_t{4} << 60},
      {"1.5G", uint64_t{3} << 29},
      {"1.5k", 1536},
      {"0.5M", 512 << 10},
      {"100b", 100},
      {"0x1000", 4096},
      {"0XfF", 255},
  };
  for (const Case& c : cases) {
    auto size = parse_size(c.text);
    ASSERT_TRUE(size.ok()) << c.text << ": " << size.error().message();
    EXPECT_EQ(*size, c.bytes) << c.text;
  }
}

TEST(ParseSize, RejectsWhatIsNotASize) {
  for (const char* text :
       {"", "k", "-1", "+1", "1Q", "1kk", "1 k", "1.k", ".5k", "1.1", "0x", "0x1g", "1e3", "abc",
        "8E", "9223372036854775808", "99999999999999999999999", "1.00000000000000000000000001k"}) {
    auto size = parse_size(text);
    EXPECT_FALSE(size.ok()) << "'" << text << "' parsed as " << (size.ok() ? *size : 0);
  }
  auto error = parse_size("12Q");
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.error().message().find("12Q"), std::string::npos);
  EXPECT_NE(parse_size("1.1").error().message().find("whole number"), std::string::npos);
  EXPECT_NE(parse_size("8E").error().message().find("too large"), std::string::npos);
  EXPECT_EQ(*parse_size("9223372036854775807"), uint64_t{INT64_MAX});
}

TEST(SizeChange, AbsoluteGrowAndShrink) {
  auto grow = parse_size_change("+1G");
  ASSERT_TRUE(grow.ok());
  EXPECT_EQ(grow->kind, SizeChange::Kind::kGrow);
  EXPECT_EQ(*apply_size_change(*grow, 1 << 20), (uint64_t{1} << 30) + (1 << 20));
  auto shrink = parse_size_change("-512k");
  ASSERT_TRUE(shrink.ok());
  EXPECT_EQ(*apply_size_change(*shrink, 1 << 20), 512u << 10);
  EXPECT_FALSE(apply_size_change(*shrink, 4096).ok());
  auto absolute = parse_size_change("3M");
  ASSERT_TRUE(absolute.ok());
  EXPECT_EQ(*apply_size_change(*absolute, 1 << 30), 3u << 20);
  EXPECT_FALSE(parse_size_change("+").ok());
  EXPECT_FALSE(parse_size_change("--1M").ok());
  auto huge = parse_size_change("+8000P");
  ASSERT_TRUE(huge.ok());
  EXPECT_FALSE(apply_size_change(*huge, uint64_t{1} << 62).ok());
}

TEST(KeyValues, ParsesQemuImgOptionLists) {
  bool help = false;
  auto values = parse_key_values({"cluster_size=64k,lazy_refcounts", "compat=1.1,a=x,,y"}, &help);
  ASSERT_TRUE(values.ok()) << values.error().message();
  EXPECT_FALSE(help);
  EXPECT_EQ(values->at("cluster_size"), "64k");
  EXPECT_EQ(values->at("lazy_refcounts"), "on");
  EXPECT_EQ(values->at("compat"), "1.1");
  EXPECT_EQ(values->at("a"), "x,y");
  auto later_wins = parse_key_values({"a=1", "a=2"}, nullptr);
  EXPECT_EQ(later_wins->at("a"), "2");
  ASSERT_TRUE(parse_key_values({"help"}, &help).ok());
  EXPECT_TRUE(help);
  EXPECT_FALSE(parse_key_values({"=5"}, nullptr).ok());
  EXPECT_FALSE(parse_key_values({"a=1,"}, nullptr).ok());
}

TEST(CacheMode, KnowsQemuImgModes) {
  for (const char* mode : {"none", "writeback", "writethrough", "directsync", "unsafe"}) {
    EXPECT_TRUE(check_cache_mode(mode).ok()) << mode;
  }
  EXPECT_FALSE(check_cache_mode("fast").ok());
}

TEST(HumanSize, ThreeSignificantDigitsInBinaryUnits) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(512), "512 B");
  EXPECT_EQ(human_size(1000), "0.977 KiB");
  EXPECT_EQ(human_size(331776), "324 KiB");
  EXPECT_EQ(human_size(10 << 20), "10 MiB");
  EXPECT_EQ(human_size(uint64_t{3} << 29), "1.5 GiB");
  EXPECT_EQ(human_size(uint64_t{1} << 40), "1 TiB");
}

}  // namespace
}  // namespace cella::cli
