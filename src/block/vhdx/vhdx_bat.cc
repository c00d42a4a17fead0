#include "block/vhdx/vhdx_bat.h"

namespace cella::block::vhdx {

const char* payload_state_name(uint8_t state) {
  static constexpr const char* kNames[8] = {"not present",   "undefined",        "zero",
                                            "unmapped",      "reserved (4)",     "reserved (5)",
                                            "fully present", "partially present"};
  return kNames[state & 7];
}

BatLayout BatLayout::compute(uint64_t virtual_size, uint64_t block_size, uint64_t logical_sector,
                             bool differencing) {
  BatLayout layout;
  layout.block_size = block_size;
  layout.chunk_ratio = (kSectorsPerBitmapBlock * logical_sector) / block_size;
  layout.payload_blocks = (virtual_size + block_size - 1) / block_size;
  layout.bitmap_blocks = (layout.payload_blocks + layout.chunk_ratio - 1) / layout.chunk_ratio;
  if (differencing) {
    layout.total_entries = layout.bitmap_blocks * (layout.chunk_ratio + 1);
  } else {
    layout.total_entries =
        layout.payload_blocks == 0
            ? 0
            : layout.payload_blocks + (layout.payload_blocks - 1) / layout.chunk_ratio;
  }
  return layout;
}

}  // namespace cella::block::vhdx
