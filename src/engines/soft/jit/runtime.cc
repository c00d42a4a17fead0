#include "engines/soft/jit/runtime.h"

#include "engines/soft/exec/operands.h"

namespace cella::soft::jit {

LoadResult load_slow(SoftCpu* cpu, uint64_t linear, const Insn* insn, uint64_t size) {
  uint64_t value = 0;
  if (!cpu->read_slow(linear, &value, size)) {
    segment_fault(*cpu, *insn, linear);
    return {0, 0};
  }
  return {value, 1};
}

uint64_t store_slow(SoftCpu* cpu, uint64_t linear, const Insn* insn, uint64_t size,
                    uint64_t value) {
  if (!cpu->write_slow(linear, &value, size)) {
    segment_fault(*cpu, *insn, linear);
    return 0;
  }
  return 1;
}

uint64_t test_condition(const LazyFlags* flags, uint64_t condition) {
  return flags->test(static_cast<Condition>(condition)) ? 1 : 0;
}

uint64_t carry_flag(const LazyFlags* flags) {
  return flags->carry() ? 1 : 0;
}

void raise_general_protection(SoftCpu* cpu) {
  cpu->raise(x86::Vector::kGeneralProtection, 0);
}

}  // namespace cella::soft::jit
