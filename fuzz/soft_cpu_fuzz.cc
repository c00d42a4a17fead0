// Fuzzes the software CPU with hostile code: the input is the guest's code and data; it runs
// for a bounded number of instructions on a fresh CPU, and must end with a guest exception or
// the budget, never a host crash, hang or out-of-range host access.
#include "fuzz/hostile_code.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cella;
  testing::FlatMemory& memory = fuzz::load_hostile_code(data, size);
  soft::CodeCache code;  // fresh state per input
  soft::SoftCpu cpu(memory, code, fuzz::hostile_code_cpuid());
  fuzz::run_hostile_code(cpu);
  return 0;
}
