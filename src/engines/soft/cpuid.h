// The CPUID policy of the software CPU: exactly the features whose instruction forms and
// architectural behaviour the engine implements. A unit test checks it against the form table.
#pragma once

#include "cpu/x86/cpuid_policy.h"

namespace cella::soft {

x86::CpuidPolicy soft_cpuid_policy();

}  // namespace cella::soft
