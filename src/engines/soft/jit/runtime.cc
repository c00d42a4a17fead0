#include "engines/soft/jit/runtime.h"

#include "engines/soft/memory.h"

namespace cella::soft::jit {

namespace {

void note_segment_fault(SoftCpu& cpu, uint64_t linear, uint64_t segment) {
  if (segment == static_cast<uint64_t>(x86::Segment::kSs)) stack_segment_fault(cpu, linear);
}

}  // namespace

LoadResult load_slow(SoftCpu* cpu, uint64_t linear, uint64_t size, uint64_t segment) {
  uint64_t value = 0;
  if (!cpu->read_slow(linear, &value, size)) {
    note_segment_fault(*cpu, linear, segment);
    return {0, 0};
  }
  return {value, 1};
}

uint64_t store_slow(SoftCpu* cpu, uint64_t linear, uint64_t size, uint64_t segment,
                    uint64_t value) {
  if (!cpu->write_slow(linear, &value, size)) {
    note_segment_fault(*cpu, linear, segment);
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
