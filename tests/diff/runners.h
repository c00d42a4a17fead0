// The two executions the differential tests compare: the host processor (native) and the
// software CPU (soft), started from the same MachineState at the same addresses.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engines/soft/code_cache.h"
#include "engines/soft/cpu.h"
#include "tests/diff/machine_state.h"
#include "tests/support/flat_memory.h"

namespace cella::diff {

class NativeRunner {
 public:
  // Reserves the fixed layout in this process's address space; nullptr (with a message on
  // stderr) if something already lives there.
  static std::unique_ptr<NativeRunner> create();
  ~NativeRunner();

  Outcome run(const std::vector<uint8_t>& instruction, const MachineState& in,
              const std::vector<uint8_t>& data);

 private:
  NativeRunner() = default;
  struct Stub;
  std::unique_ptr<Stub> stub_;
};

// The FS base of the calling host thread. The soft runner gives FS the same base, so an FS
// segment override addresses the same memory natively and on the software CPU.
uint64_t host_fs_base();

class SoftRunner {
 public:
  SoftRunner();
  Outcome run(const std::vector<uint8_t>& instruction, const MachineState& in,
              const std::vector<uint8_t>& data);
  // The flags the instruction leaves undefined for this input (its form's declaration).
  uint64_t undefined_flags(const std::vector<uint8_t>& instruction, const MachineState& in);
  // The CPU after the last run, for state the FXSAVE image does not show (the full tag word).
  const soft::SoftCpu& cpu() const { return cpu_; }

 private:
  void load(const std::vector<uint8_t>& instruction, const MachineState& in,
            const std::vector<uint8_t>& data);

  testing::FlatMemory memory_;
  soft::CodeCache code_;
  x86::CpuidPolicy cpuid_;
  soft::SoftCpu cpu_;
};

}  // namespace cella::diff
