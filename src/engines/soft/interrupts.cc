// Interrupt and exception delivery in IA-32e mode (SDM Vol. 3A 6.14): 64-bit IDT gates, the
// stack switch through the TSS (RSP0-2, IST), the frame SS:RSP, RFLAGS, CS:RIP and error
// code, and the double-fault rules (SDM Vol. 3A 6.15, Table 6-5).
#include "cpu/x86/control_registers.h"
#include "engines/soft/descriptors.h"

namespace cella::soft {

namespace {

using x86::Vector;
namespace rf = x86::rflags;

enum class EventKind : uint8_t { kException, kSoftware, kExternal, kNmi };

// SDM Vol. 3A Table 6-4: exception classes for the double-fault rule.
enum class FaultClass : uint8_t { kBenign, kContributory, kPageFault, kDoubleFault };
FaultClass fault_class(Vector v, EventKind kind) {
  if (kind != EventKind::kException) return FaultClass::kBenign;
  switch (v) {
    case Vector::kDivideError:
    case Vector::kInvalidTss:
    case Vector::kSegmentNotPresent:
    case Vector::kStackFault:
    case Vector::kGeneralProtection:
      return FaultClass::kContributory;
    case Vector::kPageFault:
      return FaultClass::kPageFault;
    case Vector::kDoubleFault:
      return FaultClass::kDoubleFault;
    default:
      return FaultClass::kBenign;
  }
}

// One delivery attempt through the IDT (SDM Vol. 3A 6.14.1-6.14.5). On a fault while
// delivering, records it in cpu.fault and returns false with the CPU unchanged.
bool deliver(SoftCpu& cpu, const x86::Fault& event, EventKind kind) {
  using namespace descriptor;
  const uint8_t vector = static_cast<uint8_t>(event.vector);
  // SDM Vol. 3A 6.13: EXT is set for faults while delivering anything but INT n/INT3/INTO.
  const uint32_t ext = kind == EventKind::kSoftware ? 0 : 1;
  const uint32_t idt_error = vector * 8u + 2u + ext;  // IDT bit set
  auto fail = [&](Vector v, uint32_t error) {
    cpu.raise(v, error);
    return false;
  };
  if (vector * 16u + 15u > cpu.arch.idtr.limit) return fail(Vector::kGeneralProtection, idt_error);
  uint64_t gate[2];
  if (!system_read(cpu, cpu.arch.idtr.base + vector * 16u, gate, sizeof(gate))) return false;
  const unsigned gate_type = type(gate[0]);
  if (gate_type != kInterruptGate && gate_type != kTrapGate) {
    return fail(Vector::kGeneralProtection, idt_error);
  }
  const int cpl = cpu.cpl();
  // SDM Vol. 3A 6.12.1.1: software interrupts need gate DPL >= CPL.
  if (kind == EventKind::kSoftware && dpl(gate[0]) < cpl) {
    return fail(Vector::kGeneralProtection, idt_error);
  }
  if (!(gate[0] & kPresent)) return fail(Vector::kSegmentNotPresent, idt_error);
  const uint64_t target = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000) | (gate[1] << 32);
  const auto selector = static_cast<uint16_t>(gate[0] >> 16);
  const unsigned ist = static_cast<unsigned>(gate[0] >> 32) & 7;
  if ((selector & ~3u) == 0) return fail(Vector::kGeneralProtection, ext);

  uint64_t code = 0;
  if (!read_descriptor(cpu, selector, code, nullptr, ext)) return false;
  const uint32_t selector_error = (selector & ~3u) | ext;
  // SDM Vol. 3A 6.14.1: a present 64-bit code segment with DPL <= CPL.
  if ((code & (kS | kCode)) != (kS | kCode) || dpl(code) > cpl) {
    return fail(Vector::kGeneralProtection, selector_error);
  }
  if (!(code & kPresent)) return fail(Vector::kSegmentNotPresent, selector_error);
  if (!(code & kLong) || (code & kDb)) return fail(Vector::kGeneralProtection, selector_error);
  if (!is_canonical(target)) return fail(Vector::kGeneralProtection, ext);
  const int new_cpl = (code & kConforming) ? cpl : dpl(code);

  // SDM Vol. 3A 6.14.4, 6.14.5: the IST stack if the gate names one, else RSPn on a privilege
  // change, else the current stack; aligned down to 16 bytes.
  uint64_t rsp = cpu.gpr[4];
  if (ist != 0 || new_cpl < cpl) {
    const uint32_t offset = ist != 0 ? kTssIst1 + 8 * (ist - 1) : kTssRsp0 + 8 * new_cpl;
    if (!read_tss(cpu, offset, &rsp, sizeof(rsp), ext)) return false;
    if (!is_canonical(rsp)) return fail(Vector::kStackFault, ext);
  }
  rsp &= ~uint64_t{15};
  const uint64_t frame[6] = {
      event.error_code,   cpu.rip,    cpu.arch.seg(x86::Segment::kCs).selector,
      cpu.flags.rflags(), cpu.gpr[4], cpu.arch.seg(x86::Segment::kSs).selector};
  const uint64_t* first = event.has_error_code ? frame : frame + 1;
  const size_t bytes = event.has_error_code ? 48 : 40;
  const uint64_t new_rsp = rsp - bytes;
  // The frame is written with the new privilege's access rights.
  const bool user = cpu.tlb.user();
  cpu.tlb.set_user(new_cpl == 3);
  const bool written = cpu.write_slow(new_rsp, first, bytes);
  cpu.tlb.set_user(user);
  if (!written) {
    if (!is_canonical(new_rsp)) cpu.raise(Vector::kStackFault, ext);
    return false;
  }

  // Commit.
  x86::SegmentRegister cs = segment_from_descriptor((selector & ~3u) | new_cpl, code);
  cpu.arch.seg(x86::Segment::kCs) = cs;
  if (new_cpl < cpl) {
    // SDM Vol. 3A 6.14.2: SS is loaded with a null selector whose RPL is the new CPL.
    x86::SegmentRegister ss;
    ss.selector = static_cast<uint16_t>(new_cpl);
    ss.base = 0;
    ss.limit = 0;
    ss.attributes = static_cast<uint16_t>(new_cpl << 5);
    cpu.arch.seg(x86::Segment::kSs) = ss;
  }
  cpu.gpr[4] = new_rsp;
  cpu.rip = target;
  // SDM Vol. 3A 6.12.1.3: TF, NT, RF and VM are cleared; an interrupt gate also clears IF.
  uint64_t flags = cpu.flags.rflags() & ~(rf::kTf | rf::kNt | rf::kRf | rf::kVm);
  if (gate_type == kInterruptGate) flags &= ~rf::kIf;
  cpu.flags.set_rflags(flags);
  cpu.interrupt_shadow = false;
  cpu.privilege_changed();
  return true;
}

// Delivers `event`, applying SDM Vol. 3A Table 6-5 to faults that occur while delivering it.
// False: shutdown (triple fault).
bool deliver_event(SoftCpu& cpu, x86::Fault event, EventKind kind) {
  for (;;) {
    // SDM Vol. 3A 4.7: CR2 receives the faulting linear address when #PF is delivered.
    if (kind == EventKind::kException && event.vector == Vector::kPageFault) {
      cpu.arch.cr2 = event.address;
    }
    if (deliver(cpu, event, kind)) {
      if (kind == EventKind::kNmi) cpu.nmi_blocked = true;
      return true;
    }
    // A page fault while delivering loads CR2 too, even if it becomes a double fault.
    if (cpu.fault.vector == Vector::kPageFault) cpu.arch.cr2 = cpu.fault.address;
    const FaultClass first = fault_class(event.vector, kind);
    const FaultClass second = fault_class(cpu.fault.vector, EventKind::kException);
    if (first == FaultClass::kDoubleFault) return false;
    const bool double_fault =
        (first == FaultClass::kContributory && second == FaultClass::kContributory) ||
        (first == FaultClass::kPageFault && second != FaultClass::kBenign);
    event = double_fault ? x86::Fault{Vector::kDoubleFault, true, 0, 0} : cpu.fault;
    kind = EventKind::kException;
  }
}

}  // namespace

bool SoftCpu::interruptible() const {
  return (flags.other & rf::kIf) != 0 && !(interrupt_shadow && rip == shadow_rip);
}

bool SoftCpu::deliver_exception() {
  const EventKind kind = software_interrupt ? EventKind::kSoftware : EventKind::kException;
  software_interrupt = false;
  if (deliver_event(*this, fault, kind)) return true;
  exit_reason = ExitReason::kTripleFault;
  return false;
}

bool SoftCpu::deliver_interrupt(uint8_t vector) {
  if (!interruptible()) return false;
  if (!deliver_event(*this, x86::Fault{static_cast<Vector>(vector), false, 0, 0},
                     EventKind::kExternal)) {
    shutdown_pending_ = true;
  }
  return true;
}

bool SoftCpu::deliver_nmi() {
  if (nmi_blocked) return false;
  if (!deliver_event(*this, x86::Fault{Vector::kNmi, false, 0, 0}, EventKind::kNmi)) {
    shutdown_pending_ = true;
  }
  return true;
}

}  // namespace cella::soft
