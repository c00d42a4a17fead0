// The DMA-write hook: devices report the guest RAM they wrote behind the CPUs' backs.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "memory/guest_memory.h"

namespace cella::memory {
namespace {

using Write = std::pair<uint64_t, uint64_t>;

TEST(DmaObserver, ReportsWritesToTheObserver) {
  GuestMemory m;
  ASSERT_TRUE(m.add_ram(0, 0x10000).ok());
  m.note_dma_write(0x1000, 16);  // no observer: nothing happens
  std::vector<Write> seen;
  m.set_dma_write_observer(
      [&](uint64_t physical, uint64_t size) { seen.emplace_back(physical, size); });
  m.note_dma_write(0x1000, 16);
  m.note_dma_write(0x2ff0, 0x20);
  m.note_dma_write(0x3000, 0);  // nothing written, nothing to report
  EXPECT_EQ(seen, (std::vector<Write>{{0x1000, 16}, {0x2ff0, 0x20}}));

  // Moving the memory moves the observer with it.
  GuestMemory moved = std::move(m);
  moved.note_dma_write(0x4000, 1);
  EXPECT_EQ(seen.back(), (Write{0x4000, 1}));
  m.note_dma_write(0x5000, 1);  // NOLINT(bugprone-use-after-move): the moved-from has none
  EXPECT_EQ(seen.size(), 3u);

  moved.set_dma_write_observer(nullptr);
  moved.note_dma_write(0x6000, 1);
  EXPECT_EQ(seen.size(), 3u);
}

}  // namespace
}  // namespace cella::memory
