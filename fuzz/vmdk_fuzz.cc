// Fuzzes VMDK: the descriptor parser alone, then the input as a whole disk (a sparse extent
// or a descriptor). A descriptor may name the extent files "flat.bin" and "sparse.vmdk" and
// the parent "parent.vmdk" (CID 00c0ffee), which are rebuilt before every input so that no
// state carries over from one input to the next.
#include <cstdint>
#include <string>
#include <string_view>

#include "block/vmdk/descriptor.h"
#include "image_fuzz_util.h"

namespace {

using cella::fuzz::put_file;

struct Fixtures {
  cella::fuzz::ScratchDir dir;
  std::vector<uint8_t> sparse;
  std::vector<uint8_t> parent;

  Fixtures() {
    sparse = make_sparse("sparse.vmdk", 256 * 1024);
    parent = make_sparse("parent.vmdk", 256 * 1024);
    // A fixed CID lets seed descriptors name this parent.
    std::string text(parent.begin(), parent.end());
    const size_t cid = text.find("CID=");
    if (cid != std::string::npos) std::copy_n("00c0ffee", 8, parent.begin() + cid + 4);
  }

  std::vector<uint8_t> make_sparse(const std::string& name, uint64_t size) {
    cella::block::CreateOptions options;
    options.path = dir.file(name);
    options.size = size;
    if (!cella::block::create_image("vmdk", options)) std::abort();
    auto image = cella::block::open_image(options.path, {});
    if (!image) std::abort();
    std::vector<uint8_t> data(4096, 0x33);
    (void)(*image)->write(65536 + 100, data);
    (void)(*image)->flush();
    image->reset();
    auto file = cella::block::HostFile::open(options.path, cella::block::Access::kReadOnly);
    std::vector<uint8_t> bytes(*file->size());
    (void)file->read(0, bytes);
    return bytes;
  }

  void reset() {
    std::vector<uint8_t> flat(128 * 1024);
    for (size_t i = 0; i < flat.size(); ++i) flat[i] = static_cast<uint8_t>(i * 7);
    put_file(dir.file("flat.bin"), flat.data(), flat.size());
    put_file(dir.file("sparse.vmdk"), sparse.data(), sparse.size());
    put_file(dir.file("parent.vmdk"), parent.data(), parent.size());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixtures fixtures;
  (void)cella::block::vmdk::parse_descriptor(
      std::string_view(reinterpret_cast<const char*>(data), size));
  fixtures.reset();
  const std::string path = fixtures.dir.file("disk.vmdk");
  put_file(path, data, size);
  cella::fuzz::exercise(path, "vmdk", true);
  cella::fuzz::exercise(path, "vmdk", false);
  return 0;
}
