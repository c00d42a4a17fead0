// Differential fuzzing of the translator: the input is guest code and data (hostile_code.h),
// run on a fresh CPU once interpreted only and once with every block translated at its first
// run; both runs must end in the same state (registers, RIP, RFLAGS, retired count, memory,
// the last exception). Any difference aborts.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz/hostile_code.h"

namespace {

using namespace cella;

struct Result {
  x86::ArchState state;
  uint64_t retired = 0;
  int vector = -1;
  std::vector<uint8_t> memory;
};

uint64_t fixed_tsc(void*) {
  return 1000;  // RDTSC must read the same in both runs
}

Result run(const uint8_t* data, size_t size, soft::TranslationPolicy policy) {
  testing::FlatMemory& memory = fuzz::load_hostile_code(data, size);
  soft::CodeCache code(policy);  // fresh state per input and per run
  soft::CpuEnvironment environment;
  environment.read_tsc = &fixed_tsc;
  soft::SoftCpu cpu(memory, code, fuzz::hostile_code_cpuid(), environment);
  Result result;
  result.vector = fuzz::run_hostile_code(cpu);
  result.state = cpu.state();
  result.retired = cpu.retired;
  const uint8_t* bytes = memory.host(fuzz::kCodeBase);
  result.memory.assign(bytes, bytes + fuzz::kCodeSize);
  return result;
}

void require(bool same, const char* what) {
  if (same) return;
  std::fprintf(stderr, "the translated run differs from the interpreted one: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  soft::TranslationPolicy interpret;
  interpret.enabled = false;
  soft::TranslationPolicy translate;
  translate.after_runs = 0;
  translate.region_bytes = size_t{1} << 20;
  const Result a = run(data, size, interpret);
  const Result b = run(data, size, translate);
  require(a.state.gpr == b.state.gpr, "general-purpose registers");
  require(a.state.rip == b.state.rip, "RIP");
  require(a.state.rflags == b.state.rflags, "RFLAGS");
  require(a.retired == b.retired, "retired instructions");
  require(a.vector == b.vector, "the last exception");
  require(a.memory == b.memory, "memory");
  return 0;
}
