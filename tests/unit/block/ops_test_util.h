// Helpers for the image-operation tests: filling images and reading them whole.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "block/block_image.h"

namespace cella::block::testing {

inline std::vector<uint8_t> filled(size_t n, uint8_t value) {
  return std::vector<uint8_t>(n, value);
}

inline void put(BlockImage& image, uint64_t offset, size_t n, uint8_t value) {
  auto written = image.write(offset, filled(n, value));
  ASSERT_TRUE(written.ok()) << written.error().message();
}

inline std::vector<uint8_t> contents(BlockImage& image) {
  std::vector<uint8_t> data(static_cast<size_t>(image.size()));
  auto read = image.read(0, data);
  EXPECT_TRUE(read.ok()) << read.error().message();
  return data;
}

}  // namespace cella::block::testing
