#include "block/vdi/vdi.h"

namespace cella::block::vdi {

FormatDriver vdi_format() {
  return FormatDriver{"vdi", probe_vdi, open_vdi, create_vdi, {"static", "block_size"}};
}

}  // namespace cella::block::vdi
