#include "machine/soft_vcpu.h"

namespace cella::machine {
x86::CpuidPolicy machine_cpuid_policy(uint32_t tsc_khz) {
  // The machine has a local APIC with x2APIC and the TSC-deadline timer (devices/lapic).
  // Its TSC is host monotonic time at a fixed rate (Machine::GuestTsc): invariant.
  x86::CpuidPolicy policy = soft::soft_cpuid_policy(
      {.apic = true, .x2apic = true, .tsc_deadline = true, .invariant_tsc = true});
  // CPUID 15H/16H: the TSC frequency, so the guest needs no calibration loop.
  policy.tsc_khz = tsc_khz;
  return policy;
}

SoftVcpu::SoftVcpu(memory::GuestMemory& memory, x86::Platform& platform, uint32_t tsc_khz,
                   uint64_t (*read_tsc)(void*), void* context)
    : walker_(memory), cpuid_(machine_cpuid_policy(tsc_khz)) {
  soft::CpuEnvironment environment;
  environment.read_tsc = read_tsc;
  environment.context = context;
  environment.deliver_exceptions = true;
  environment.platform = &platform;
  cpu_ = std::make_unique<soft::SoftCpu>(walker_, code_, cpuid_, environment);
}

}  // namespace cella::machine
