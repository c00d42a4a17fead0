#include "tests/unit/soft/host_oracle.h"

#include <asm/prctl.h>
#include <fmt/format.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "engines/soft/decoder/decoder.h"
#include "tests/support/flat_memory.h"

namespace cella::soft::testing {

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kCodeArea = 4 * kPage;  // guest code below the data area
constexpr uint64_t kGuestCode = HostOracle::kDataBase - kCodeArea;
constexpr uint64_t kStatusAndDf = x86::rflags::kStatus | x86::rflags::kDf;
constexpr const char* kRegisterNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                            "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

// ---- The native stub: loads every register but RSP from an OracleState (pointer in RDI),
// sets RFLAGS, runs the instruction, stores everything back. Hand-assembled (SDM Vol. 2). ----

void emit(std::vector<uint8_t>& out, std::initializer_list<uint8_t> bytes) {
  out.insert(out.end(), bytes);
}
// MOV r64, [RDI + disp8] (load) or MOV [RDI + disp8], r64 (store).
void emit_move(std::vector<uint8_t>& out, bool load, unsigned reg, uint8_t disp) {
  const uint8_t rex = static_cast<uint8_t>(0x48 | (reg >= 8 ? 4 : 0));
  const uint8_t modrm = static_cast<uint8_t>(0x40 | ((reg & 7) << 3) | 7);
  emit(out, {rex, static_cast<uint8_t>(load ? 0x8b : 0x89), modrm, disp});
}

std::vector<uint8_t> native_stub(std::span<const uint8_t> insn) {
  std::vector<uint8_t> s;
  emit(s, {0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57});  // push rbx..r15
  emit(s, {0x57});                                                        // push rdi
  emit(s, {0xff, 0xb7, 0x80, 0, 0, 0});                                   // push qword [rdi+128]
  emit(s, {0x9d});                                                        // popfq
  for (unsigned r = 0; r < 16; ++r) {
    if (r != 4 && r != 7) emit_move(s, true, r, static_cast<uint8_t>(8 * r));
  }
  emit_move(s, true, 7, 56);  // rdi last
  s.insert(s.end(), insn.begin(), insn.end());
  emit(s, {0x57});                          // push rdi (the guest's)
  emit(s, {0x48, 0x8b, 0x7c, 0x24, 0x08});  // mov rdi, [rsp+8]: the state
  for (unsigned r = 0; r < 16; ++r) {
    if (r != 4 && r != 7) emit_move(s, false, r, static_cast<uint8_t>(8 * r));
  }
  emit(s, {0x58});                       // pop rax (the guest's rdi)
  emit_move(s, false, 0, 56);            // mov [rdi+56], rax
  emit(s, {0x9c});                       // pushfq
  emit(s, {0x8f, 0x87, 0x80, 0, 0, 0});  // pop qword [rdi+128]
  emit(s, {0x5f, 0xfc});                 // pop rdi; cld
  emit(s, {0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3});
  return s;
}

// Signal delivery: the handler copies the interrupted context and jumps back.
sigjmp_buf g_jump;
OracleOutcome g_signal_outcome;

void on_signal(int signal, siginfo_t* info, void* context) {
  const auto* uc = static_cast<const ucontext_t*>(context);
  const greg_t* g = uc->uc_mcontext.gregs;
  static constexpr int kOrder[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                     REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                     REG_R12, REG_R13, REG_R14, REG_R15};
  OracleOutcome& out = g_signal_outcome;
  for (int i = 0; i < 16; ++i) out.state.gpr[i] = static_cast<uint64_t>(g[kOrder[i]]);
  out.state.rflags = static_cast<uint64_t>(g[REG_EFL]);
  out.faulted = true;
  out.fault_address = 0;
  switch (signal) {
    case SIGFPE:
      out.vector = x86::Vector::kDivideError;
      break;
    case SIGILL:
      out.vector = x86::Vector::kInvalidOpcode;
      break;
    case SIGSEGV:
      if (info->si_code == SEGV_MAPERR || info->si_code == SEGV_ACCERR) {
        out.vector = x86::Vector::kPageFault;
        out.fault_address = reinterpret_cast<uint64_t>(info->si_addr);
      } else {
        out.vector = x86::Vector::kGeneralProtection;
      }
      break;
    default:
      out.vector = x86::Vector::kGeneralProtection;
      break;
  }
  siglongjmp(g_jump, 1);
}

}  // namespace

struct HostOracle::Impl {
  uint8_t* native_code = nullptr;
  uint8_t* native_data = nullptr;
  std::vector<bool> accessible = std::vector<bool>(kDataSize / kPage, true);
  cella::testing::FlatMemory memory{kGuestCode, kCodeArea + kDataSize};
  CodeCache code;
  x86::CpuidPolicy cpuid = soft_cpuid_policy();
  SoftCpu cpu{memory, code, cpuid};
};

HostOracle::HostOracle() : impl_(new Impl), initial_(kDataSize) {
  void* code = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void* data = ::mmap(reinterpret_cast<void*>(kDataBase), kDataSize, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code == MAP_FAILED || data != reinterpret_cast<void*>(kDataBase)) {
    throw std::runtime_error("HostOracle: cannot map the native code or data area");
  }
  impl_->native_code = static_cast<uint8_t*>(code);
  impl_->native_data = static_cast<uint8_t*>(data);
}

HostOracle::~HostOracle() {
  ::munmap(impl_->native_code, kPage);
  ::munmap(impl_->native_data, kDataSize);
  delete impl_;
}

void HostOracle::set_page_accessible(unsigned page, bool accessible) {
  impl_->accessible[page] = accessible;
  ::mprotect(impl_->native_data + page * kPage, kPage,
             accessible ? PROT_READ | PROT_WRITE : PROT_NONE);
  impl_->memory.set_permissions(kDataBase + page * kPage, kPage,
                                {accessible, accessible, accessible});
}

uint64_t HostOracle::host_fs_base() {
  uint64_t base = 0;
  ::syscall(SYS_arch_prctl, ARCH_GET_FS, &base);
  return base;
}

std::span<const uint8_t> HostOracle::native_data() const {
  return {impl_->native_data, kDataSize};
}
std::span<const uint8_t> HostOracle::soft_data() const {
  return {impl_->memory.host(kDataBase), kDataSize};
}

OracleOutcome HostOracle::run_native(std::span<const uint8_t> insn, const OracleState& in) {
  for (unsigned page = 0; page < kDataSize / kPage; ++page) {
    if (impl_->accessible[page]) {
      std::memcpy(impl_->native_data + page * kPage, initial_.data() + page * kPage, kPage);
    }
  }
  const std::vector<uint8_t> stub = native_stub(insn);
  std::memcpy(impl_->native_code, stub.data(), stub.size());
  __builtin___clear_cache(reinterpret_cast<char*>(impl_->native_code),
                          reinterpret_cast<char*>(impl_->native_code + stub.size()));

  struct sigaction action = {}, old[4];
  action.sa_sigaction = &on_signal;
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  static constexpr int kSignals[4] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
  for (int i = 0; i < 4; ++i) sigaction(kSignals[i], &action, &old[i]);

  OracleOutcome out;
  out.state = in;
  out.state.rflags = (in.rflags & kStatusAndDf) | 0x202;
  g_signal_outcome = OracleOutcome{};
  if (sigsetjmp(g_jump, 1) == 0) {
    reinterpret_cast<void (*)(OracleState*)>(impl_->native_code)(&out.state);
  } else {
    out = g_signal_outcome;
  }
  for (int i = 0; i < 4; ++i) sigaction(kSignals[i], &old[i], nullptr);
  return out;
}

OracleOutcome HostOracle::run_soft(std::span<const uint8_t> insn, const OracleState& in) {
  Impl& m = *impl_;
  m.code.clear();
  m.cpu.tlb.flush_all();
  std::vector<uint8_t> program(insn.begin(), insn.end());
  program.insert(program.end(), {0x0f, 0x0b});  // ud2: the end
  m.memory.write(kGuestCode, program);
  for (unsigned page = 0; page < kDataSize / kPage; ++page) {
    std::memcpy(m.memory.host(kDataBase + page * kPage), initial_.data() + page * kPage, kPage);
  }
  for (int i = 0; i < 16; ++i) m.cpu.gpr[i] = in.gpr[i];
  m.cpu.gpr[4] = kGuestCode + kCodeArea - 64;
  m.cpu.flags.set_rflags((in.rflags & kStatusAndDf) | 0x202);
  m.cpu.rip = kGuestCode;
  m.cpu.segment_base[static_cast<int>(x86::Segment::kFs)] = host_fs_base();

  OracleOutcome out;
  const ExitReason exit = m.cpu.run(1'000'000);
  for (int i = 0; i < 16; ++i) out.state.gpr[i] = m.cpu.gpr[i];
  out.state.rflags = m.cpu.flags.rflags();
  if (exit != ExitReason::kFault) {
    out.faulted = true;  // did not finish: reported as a #GP that the host cannot produce
    out.vector = x86::Vector::kMachineCheck;
  } else if (m.cpu.fault.vector != x86::Vector::kInvalidOpcode ||
             m.cpu.rip != kGuestCode + insn.size()) {
    out.faulted = true;
    out.vector = m.cpu.fault.vector;
    out.fault_address = m.cpu.fault.address;
  }
  return out;
}

std::string HostOracle::compare(std::span<const uint8_t> insn, const OracleState& in) {
  // The undefined flags depend on the state before the instruction. Bytes that do not decode
  // must raise #UD on both sides.
  const DecodeResult decoded = Decoder::instance().decode(insn.data(), insn.size());
  uint64_t undefined = 0;
  if (decoded.kind == DecodeResult::Kind::kOk) {
    if (decoded.insn.length != insn.size()) return " decodes to a different length";
    SoftCpu& before = impl_->cpu;
    for (int i = 0; i < 16; ++i) before.gpr[i] = in.gpr[i];
    before.flags.set_rflags(in.rflags);
    undefined = Decoder::instance().form(decoded.insn.form).undefined_flags(before, decoded.insn);
  }

  const OracleOutcome native = run_native(insn, in);
  const OracleOutcome soft = run_soft(insn, in);
  std::string diff;
  if (native.faulted != soft.faulted || (native.faulted && native.vector != soft.vector)) {
    diff += fmt::format(" fault: host {} software {};",
                        native.faulted ? x86::vector_mnemonic(native.vector) : "none",
                        soft.faulted ? x86::vector_mnemonic(soft.vector) : "none");
  } else if (native.faulted && native.vector == x86::Vector::kPageFault &&
             native.fault_address != soft.fault_address) {
    diff += fmt::format(" #PF address: host {:#x} software {:#x};", native.fault_address,
                        soft.fault_address);
  }
  for (int i = 0; i < 16; ++i) {
    if (i != 4 && native.state.gpr[i] != soft.state.gpr[i]) {
      diff += fmt::format(" {}: host {:#x} software {:#x};", kRegisterNames[i], native.state.gpr[i],
                          soft.state.gpr[i]);
    }
  }
  const uint64_t mask = kStatusAndDf & ~undefined;
  if ((native.state.rflags & mask) != (soft.state.rflags & mask)) {
    diff += fmt::format(" rflags: host {:#x} software {:#x} (compared {:#x});",
                        native.state.rflags & kStatusAndDf, soft.state.rflags & kStatusAndDf, mask);
  }
  const auto host_bytes = native_data(), soft_bytes = soft_data();
  int shown = 0;
  for (size_t page = 0; page < kDataSize / kPage; ++page) {
    const size_t start = page * kPage;
    if (!impl_->accessible[page] ||
        std::memcmp(host_bytes.data() + start, soft_bytes.data() + start, kPage) == 0) {
      continue;
    }
    for (size_t i = start; i < start + kPage; ++i) {
      if (host_bytes[i] != soft_bytes[i] && shown++ < 4) {
        diff += fmt::format(" memory {:#x}: host {:#04x} software {:#04x};", kDataBase + i,
                            host_bytes[i], soft_bytes[i]);
      }
    }
  }
  return diff;
}

std::string hex(std::span<const uint8_t> bytes) {
  std::string out;
  for (uint8_t b : bytes) out += fmt::format("{}{:02x}", out.empty() ? "" : " ", b);
  return out;
}

std::string describe(const OracleState& state) {
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i != 4) out += fmt::format("{}={:#x} ", kRegisterNames[i], state.gpr[i]);
  }
  return out + fmt::format("rflags={:#x}", state.rflags);
}

bool matches_host(HostOracle& oracle, std::span<const uint8_t> insn, const OracleState& in) {
  const std::string diff = oracle.compare(insn, in);
  if (diff.empty()) return true;
  ADD_FAILURE() << "[" << hex(insn) << "] differs from the host:" << diff
                << "\n  inputs: " << describe(in);
  return false;
}

uint64_t InputGenerator::next() {
  // splitmix64
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t InputGenerator::edgy() {
  static constexpr uint64_t kEdges[] = {
      0,
      1,
      2,
      0x7f,
      0x80,
      0xff,
      0x7fff,
      0x8000,
      0xffff,
      0x7fffffff,
      0x80000000,
      0xffffffff,
      ~uint64_t{0} >> 1,
      uint64_t{1} << 63,
      ~uint64_t{0},
      ~uint64_t{0} - 1,
      0xffffffff80000000,
      0xffffffffffff8000,
  };
  const uint64_t r = next();
  if (r % 3 == 0) return kEdges[(r >> 8) % std::size(kEdges)];
  return next();
}

uint64_t InputGenerator::flags() {
  return (next() & (x86::rflags::kStatus)) | 0x202;
}

OracleState InputGenerator::state() {
  OracleState in;
  for (uint64_t& r : in.gpr) r = edgy();
  in.rflags = flags();
  in.gpr[6] = HostOracle::kDataBase + 4096 + (next() % 2 ? 4093 : next() % 4000);
  return in;
}

void InputGenerator::randomize(std::span<uint8_t> bytes) {
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(next());
}

std::vector<RmShape> rm_shapes(bool byte_form) {
  if (byte_form) return {{{}, false, 3}, {{}, false, 4}, {{}, true, 6}};
  std::vector<RmShape> out;
  for (std::vector<uint8_t> prefix : {std::vector<uint8_t>{0x66}, {}, {0x48}}) {
    out.push_back({prefix, false, 3});
    out.push_back({prefix, true, 6});
  }
  return out;
}

}  // namespace cella::soft::testing
