// Creating qcow2 images: `cella img create -f qcow2 -o ...` with qemu-img's option names.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "block/format_registry.h"

namespace cella::block::qcow2 {

// The -o keys create() accepts.
std::vector<std::string> create_option_names();

Result<void> create(const CreateOptions& options);

}  // namespace cella::block::qcow2
