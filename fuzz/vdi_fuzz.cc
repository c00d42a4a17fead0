// Fuzzes VDI: the input as a whole image, opened read-only and then for writing (write, zero,
// discard with compaction, grow, check with repair). A differencing input may link the parent
// "parent.vdi" (UUID 11111111-...), rebuilt before every input with the input itself so that
// no state carries over from one input to the next.
#include <cstdint>
#include <string>

#include "block/vdi/vdi_header.h"
#include "image_fuzz_util.h"

namespace {

using cella::fuzz::put_file;

struct Fixtures {
  cella::fuzz::ScratchDir dir;
  std::vector<uint8_t> parent;

  Fixtures() {
    cella::block::CreateOptions options;
    options.path = dir.file("parent.vdi");
    options.size = 4 << 20;
    options.options = {{"block_size", "64k"}};
    if (!cella::block::create_image("vdi", options)) std::abort();
    {
      auto image = cella::block::open_image(options.path, {});
      if (!image) std::abort();
      std::vector<uint8_t> data(100000, 0x42);
      (void)(*image)->write(30000, data);
      (void)(*image)->flush();
    }
    auto file = cella::block::HostFile::open(options.path, cella::block::Access::kReadOnly);
    parent.resize(*file->size());
    (void)file->read(0, parent);
    // A fixed creation UUID lets seed differencing images name this parent.
    std::fill_n(parent.begin() + 0x188, 16, 0x11);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixtures fixtures;
  put_file(fixtures.dir.file("parent.vdi"), fixtures.parent.data(), fixtures.parent.size());
  const std::string path = fixtures.dir.file("disk.vdi");
  put_file(path, data, size);
  cella::fuzz::exercise(path, "vdi", true);
  cella::fuzz::exercise(path, "vdi", false);
  // Growth moves the block map when it outgrows its room.
  cella::block::OpenOptions options;
  options.format = "vdi";
  if (auto image = cella::block::open_image(path, options)) {
    (void)(*image)->resize((*image)->size() + (3 << 20));
    (void)(*image)->check(false);
  }
  return 0;
}
