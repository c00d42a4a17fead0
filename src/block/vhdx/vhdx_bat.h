// The VHDX Block Allocation Table ([MS-VHDX] 2.5): one 64-bit entry per payload block, with the
// entry of each chunk's sector bitmap block after the chunk's payload entries.
#pragma once

#include <cstdint>

namespace cella::block::vhdx {

// [MS-VHDX] 2.5.1.1 Payload BAT Entry States.
enum class PayloadState : uint8_t {
  kNotPresent = 0,
  kUndefined = 1,
  kZero = 2,
  kUnmapped = 3,
  kFullyPresent = 6,
  kPartiallyPresent = 7,  // differencing images only
};
// [MS-VHDX] 2.5.1.2 Sector Bitmap BAT Entry States.
enum class BitmapState : uint8_t { kNotPresent = 0, kPresent = 6 };

inline constexpr uint64_t kSectorBitmapBlockSize = 1 << 20;  // [MS-VHDX] 2.4.2
inline constexpr uint64_t kSectorsPerBitmapBlock = uint64_t{1} << 23;

// [MS-VHDX] 2.5.1 BAT Entry: State in bits 0-2, FileOffsetMB in bits 20-63.
constexpr uint8_t entry_state(uint64_t entry) {
  return entry & 7;
}
constexpr uint64_t entry_offset(uint64_t entry) {
  return entry & ~uint64_t{0xFFFFF};
}
constexpr uint64_t make_entry(uint8_t state, uint64_t offset) {
  return (offset & ~uint64_t{0xFFFFF}) | state;
}
constexpr uint64_t make_entry(PayloadState state, uint64_t offset) {
  return make_entry(static_cast<uint8_t>(state), offset);
}

const char* payload_state_name(uint8_t state);

struct BatLayout {
  uint64_t block_size = 0;
  uint64_t chunk_ratio = 0;  // payload blocks per sector bitmap block
  uint64_t payload_blocks = 0;
  uint64_t bitmap_blocks = 0;
  uint64_t total_entries = 0;

  // [MS-VHDX] 2.5: ChunkRatio = 2^23 * LogicalSectorSize / BlockSize; the BAT holds
  // PayloadBlocks + floor((PayloadBlocks - 1) / ChunkRatio) entries, or for a differencing
  // image SectorBitmapBlocks * (ChunkRatio + 1).
  static BatLayout compute(uint64_t virtual_size, uint64_t block_size, uint64_t logical_sector,
                           bool differencing);
  uint64_t payload_index(uint64_t block) const { return block + block / chunk_ratio; }
  uint64_t bitmap_index(uint64_t chunk) const { return chunk * (chunk_ratio + 1) + chunk_ratio; }
};

}  // namespace cella::block::vhdx
