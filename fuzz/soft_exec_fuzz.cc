// Executes arbitrary instruction bytes on the software CPU from arbitrary registers and flags,
// in a small sandbox: every outcome must be a guest exception or a normal exit, never a host
// crash, a hang, or a sanitizer report (undefined behaviour in an instruction's semantics).
//
// Input: 2 bytes selecting which registers point into the data area, 8 bytes of RFLAGS,
// 16 x 8 bytes of registers (zero-padded when short), then up to 64 bytes of code.
#include <cstring>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"

namespace {

using namespace cella;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kCode = 0x10000;                  // one page, read + execute
constexpr uint64_t kData = 0x20000, kDataPages = 3;  // read + write; the last read-only
constexpr size_t kHeader = 2 + 8 + 16 * 8;
constexpr size_t kMaxCode = 64;
constexpr uint64_t kBudget = 256;

class Sandbox : public soft::PageMapper {
 public:
  alignas(kPage) uint8_t code[kPage];  // guest pages are page-aligned host memory
  alignas(kPage) uint8_t data[kDataPages * kPage];

  bool translate(soft::SoftCpu& cpu, uint64_t linear, soft::Access access,
                 soft::PageTranslation& out) override {
    const uint64_t page = linear & ~(kPage - 1);
    const bool is_code = page == kCode;
    const bool is_data = page >= kData && page < kData + kDataPages * kPage;
    const bool writable = is_data && page != kData + (kDataPages - 1) * kPage;
    const bool allowed =
        (is_code && access != soft::Access::kWrite) ||
        (is_data && access != soft::Access::kFetch && (access != soft::Access::kWrite || writable));
    if (!soft::is_canonical(linear)) {
      cpu.fault = x86::Fault{x86::Vector::kGeneralProtection, true, 0, 0};
      return false;
    }
    if (!allowed) {
      cpu.fault = x86::Fault{x86::Vector::kPageFault, true, x86::pf_error::kUser, linear};
      return false;
    }
    out.host_page = is_code ? code : data + (page - kData);
    out.physical_page = page;
    out.writable = writable;
    out.executable = is_code;
    out.global = false;
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t size) {
  static Sandbox* sandbox = new Sandbox;
  static const x86::CpuidPolicy cpuid = soft::soft_cpuid_policy();
  uint8_t header[kHeader] = {};
  if (size > 0) std::memcpy(header, input, std::min(size, kHeader));
  std::memset(sandbox->code, 0xcc, sizeof(sandbox->code));  // INT3 after the code
  if (size > kHeader)
    std::memcpy(sandbox->code, input + kHeader, std::min(size - kHeader, kMaxCode));
  for (size_t i = 0; i < sizeof(sandbox->data); ++i) sandbox->data[i] = static_cast<uint8_t>(i * 7);

  soft::CodeCache code;
  soft::SoftCpu cpu(*sandbox, code, cpuid);
  uint16_t pointers;
  uint64_t rflags;
  std::memcpy(&pointers, header, 2);
  std::memcpy(&rflags, header + 2, 8);
  for (int i = 0; i < 16; ++i) {
    uint64_t value;
    std::memcpy(&value, header + 10 + 8 * i, 8);
    // Registers selected by the mask address the data area, so memory operands often hit.
    cpu.gpr[i] = (pointers >> i) & 1 ? kData + value % (kDataPages * kPage) : value;
  }
  // Status flags and DF only (TF, IF, IOPL... belong to the privileged half).
  cpu.flags.set_rflags((rflags & (x86::rflags::kStatus | x86::rflags::kDf)) | 0x2);
  cpu.rip = kCode;
  const soft::ExitReason exit = cpu.run(kBudget);
  if (exit != soft::ExitReason::kFault && exit != soft::ExitReason::kBudget &&
      exit != soft::ExitReason::kHalt && exit != soft::ExitReason::kSyscall) {
    __builtin_trap();
  }
  return 0;
}
