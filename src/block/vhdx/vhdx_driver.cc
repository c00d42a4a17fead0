#include "block/vhdx/vhdx_driver.h"

#include "block/vhdx/vhdx_create.h"
#include "block/vhdx/vhdx_format.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

namespace {

int probe(std::span<const uint8_t> head, uint64_t /*file_size*/) {
  return has_file_identifier(head) ? 100 : 0;  // [MS-VHDX] 2.2.1 "vhdxfile"
}

}  // namespace

FormatDriver driver() {
  return FormatDriver{"vhdx",
                      probe,
                      VhdxImage::open,
                      create_vhdx,
                      {"subformat", "block_size", "log_size", "block_state_zero"}};
}

}  // namespace cella::block::vhdx
