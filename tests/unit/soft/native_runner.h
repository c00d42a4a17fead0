// Runs one instruction natively on the host processor with a given register state: the x87,
// MMX, XMM and MXCSR state as an FXSAVE image, the general-purpose registers (except RSP and R15,
// which the runner uses) and RFLAGS. A fault is caught (SIGFPE/SIGSEGV/SIGILL/SIGBUS) and
// reported with its exception vector and the state at the fault, as the kernel saw it.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace cella::testing {

struct alignas(64) NativeState {
  uint8_t fxsave[512] = {};  // FXSAVE64 layout (SDM Vol. 1 Table 10-2)
  uint8_t host[512] = {};    // the runner's own FPU state while the instruction runs
  uint64_t gpr[16] = {};     // RAX..R15 (RSP and R15 are neither loaded nor stored)
  uint64_t rflags = 0x202;
  uint64_t code = 0;  // address of the instruction (followed by RET)
};

struct NativeResult {
  bool faulted = false;
  int vector = 0;  // the exception vector (trap number) when faulted
};

class NativeRunner {
 public:
  NativeRunner();
  ~NativeRunner();
  NativeRunner(const NativeRunner&) = delete;
  NativeRunner& operator=(const NativeRunner&) = delete;

  // Executes `bytes` (one instruction) with `state` loaded; on return `state` holds the state
  // after the instruction, or at the fault (RFLAGS and GPRs from the signal context).
  NativeResult run(std::span<const uint8_t> bytes, NativeState& state);

 private:
  uint8_t* page_;
};

}  // namespace cella::testing
