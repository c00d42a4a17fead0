// Diagnostics of the process VM: the instruction trace of `cella user --trace N`, and the
// warning for an instruction the software CPU cannot decode.
#include <set>

#include "base/log.h"
#include "engines/soft/decoder/decoder.h"
#include "user/process.h"

namespace cella::user {

namespace {

// Up to 15 bytes of guest code at `rip` that the guest may read.
size_t fetch(AddressSpace& memory, uint64_t rip, uint8_t (&bytes)[soft::kMaxInstructionLength]) {
  const uint64_t n = memory.accessible(rip, sizeof bytes, GuestAccess::kRead);
  if (n > 0) memory.copy_in(bytes, rip, n);
  return n;
}

std::string hex(const uint8_t* bytes, size_t n) {
  std::string text;
  for (size_t i = 0; i < n; ++i) text += fmt::format("{}{:02x}", i ? " " : "", bytes[i]);
  return text;
}

}  // namespace

soft::ExitReason Process::trace_block() {
  struct Decoded {
    uint64_t rip;
    std::string text;
  };
  // The block the CPU is about to run: straight-line code up to a block-ending form.
  std::vector<Decoded> block;
  const soft::Decoder& decoder = soft::Decoder::instance();
  for (uint64_t rip = cpu_->rip; block.size() < 64;) {
    uint8_t bytes[soft::kMaxInstructionLength];
    const size_t n = fetch(*memory_, rip, bytes);
    const soft::DecodeResult d = decoder.decode(bytes, n);
    if (d.kind != soft::DecodeResult::Kind::kOk) {
      block.push_back({rip, fmt::format("(invalid) {}", hex(bytes, std::min<size_t>(n, 4)))});
      break;
    }
    const soft::FormSpec& form = decoder.form(d.insn.form);
    block.push_back({rip, fmt::format("{:<10} {}", form.mnemonic, hex(bytes, d.insn.length))});
    rip += d.insn.length;
    if (form.has(soft::attr::kEndsBlock)) break;
  }
  const uint64_t before = cpu_->retired;
  const soft::ExitReason reason = cpu_->run(1);
  const uint64_t executed = cpu_->retired - before;
  const uint64_t shown = std::min<uint64_t>(std::min<uint64_t>(executed, block.size()),
                                            options_.trace_instructions - traced_);
  for (uint64_t i = 0; i < shown; ++i) {
    fmt::print(stderr, "cella: trace: {:#014x}  {}\n", block[i].rip, block[i].text);
  }
  if (reason == soft::ExitReason::kFault && executed < block.size()) {
    fmt::print(stderr, "cella: trace: {:#014x}  {}  -> {}\n", block[executed].rip,
               block[executed].text, x86::vector_mnemonic(cpu_->fault.vector));
  }
  traced_ += std::max<uint64_t>(executed, 1);
  return reason;
}

void Process::report_invalid_opcode() {
  static std::set<uint64_t> reported;
  const uint64_t rip = cpu_->rip;
  if (!reported.insert(rip).second) return;
  uint8_t bytes[soft::kMaxInstructionLength];
  const size_t n = fetch(*memory_, rip, bytes);
  if (soft::Decoder::instance().decode(bytes, n).kind == soft::DecodeResult::Kind::kOk) {
    return;  // a decodable #UD (UD2, ...): the program meant it
  }
  log::warn("invalid or unimplemented instruction at {:#x}: {} (SIGILL)", rip, hex(bytes, n));
}

}  // namespace cella::user
