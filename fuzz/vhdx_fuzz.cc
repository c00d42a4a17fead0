// libFuzzer target: VHDX images (headers, region tables, log replay, metadata, BAT) from sparse
// file descriptions.
#include <cstddef>
#include <cstdint>

#include "fuzz_image_file.h"
#include "image_fuzz_steps.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cella::fuzz::ScratchImage scratch;
  const std::string& path = scratch.write(cella::fuzz::decode_image(data, size));
  cella::fuzz::exercise(path, "vhdx");
  return 0;
}
