// A human-readable dump of a vCPU's architectural state, for the one-time report when a guest
// dies (triple fault, unhandled state): general registers, RIP/RFLAGS, segments with their
// hidden parts, descriptor tables, control registers and EFER.
#pragma once

#include <string>

#include "cpu/x86/arch_state.h"

namespace cella::x86 {

std::string format_state(const ArchState& state);

}  // namespace cella::x86
