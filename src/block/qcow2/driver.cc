// The qcow2 entry of the format table.
#include "base/bits.h"
#include "block/qcow2/create.h"
#include "block/qcow2/qcow2_image.h"

namespace cella::block::qcow2 {

namespace {

int probe(std::span<const uint8_t> head, uint64_t /*file_size*/) {
  // "== Header ==": the magic is certain; any version is claimed so that open() can say which
  // version it does not support rather than "format not recognized".
  if (head.size() < 8 || load_be<uint32_t>(head.data()) != kMagic) return 0;
  return 100;
}

Result<std::unique_ptr<BlockImage>> open(HostFile file, const OpenOptions& options) {
  CELLA_TRY_ASSIGN(image, Qcow2Image::open(std::move(file), options));
  return std::unique_ptr<BlockImage>(std::move(image));
}

}  // namespace

FormatDriver driver() {
  return FormatDriver{"qcow2", probe, open, create, create_option_names()};
}

}  // namespace cella::block::qcow2
