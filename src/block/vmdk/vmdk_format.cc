#include "block/vmdk/vmdk.h"

namespace cella::block::vmdk {

FormatDriver vmdk_format() {
  return FormatDriver{
      "vmdk",
      probe_vmdk,
      open_vmdk,
      create_vmdk,
      {"subformat", "adapter_type", "hwversion", "compat6", "toolsversion", "zeroed_grain"}};
}

}  // namespace cella::block::vmdk
