// x87 throughput of the software CPU beside the host processor running the same loops, in one
// run: arithmetic, memory loads and stores, transcendentals, compares with conditional moves.
// Prints nanoseconds per instruction and the ratio soft / native.
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"

namespace {

using namespace cella;

constexpr uint64_t kBase = 0x40000000;
constexpr uint32_t kIterations = 200000;

struct Loop {
  const char* name;
  std::vector<uint8_t> body;  // x87 instructions; [rsi] is scratch memory
  int instructions;           // in the body
};

// mov ecx, N; fninit; fld1; fld1; loop: <body> dec ecx; jnz loop; fninit; then ret / ud2.
std::vector<uint8_t> program(const Loop& loop, bool native) {
  std::vector<uint8_t> code = {0xb9};
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(kIterations >> (8 * i)));
  code.insert(code.end(), {0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xe8});
  const size_t top = code.size();
  code.insert(code.end(), loop.body.begin(), loop.body.end());
  code.insert(code.end(), {0xff, 0xc9, 0x0f, 0x85});
  const int32_t back = static_cast<int32_t>(top - (code.size() + 4));
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(back >> (8 * i)));
  code.insert(code.end(), {0xdb, 0xe3});
  if (native)
    code.push_back(0xc3);
  else
    code.insert(code.end(), {0x0f, 0x0b});
  return code;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double native_seconds(const Loop& loop) {
  const std::vector<uint8_t> code = program(loop, true);
  void* p = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  std::memcpy(p, code.data(), code.size());
  ::mprotect(p, 4096, PROT_READ | PROT_EXEC);
  auto* scratch = static_cast<uint8_t*>(p) + 4096;
  const auto start = std::chrono::steady_clock::now();
  asm volatile("call *%0"
               :
               : "r"(p), "S"(scratch)
               : "rax", "rcx", "rdx", "rdi", "r8", "r9", "r10", "r11", "memory", "cc", "st",
                 "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
  const double elapsed = seconds_since(start);
  ::munmap(p, 8192);
  return elapsed;
}

double soft_seconds(const Loop& loop) {
  testing::FlatMemory memory(kBase, 0x4000);
  soft::CodeCache code;
  const x86::CpuidPolicy policy = soft::soft_cpuid_policy();
  soft::SoftCpu cpu(memory, code, policy);
  memory.write(kBase, program(loop, false));
  x86::ArchState s;
  s.rip = kBase;
  s.reg(x86::Gpr::kRsi) = kBase + 0x2000;
  s.reg(x86::Gpr::kRsp) = kBase + 0x3f00;
  cpu.set_state(s);
  const auto start = std::chrono::steady_clock::now();
  cpu.run();
  const double elapsed = seconds_since(start);
  if (cpu.fault.vector != x86::Vector::kInvalidOpcode) std::printf("unexpected fault\n");
  return elapsed;
}

}  // namespace

int main() {
  const Loop loops[] = {
      // fadd st0,st1; fmul st0,st1; fsub st0,st1; fdiv st0,st1
      {"arithmetic", {0xd8, 0xc1, 0xd8, 0xc9, 0xd8, 0xe1, 0xd8, 0xf1}, 4},
      // fst qword [rsi]; fadd qword [rsi]; fstp tbyte [rsi+16]; fld tbyte [rsi+16]
      {"memory", {0xdd, 0x16, 0xdc, 0x06, 0xdb, 0x7e, 0x10, 0xdb, 0x6e, 0x10}, 4},
      // fsin; fcos; fsqrt; fabs
      {"transcendental", {0xd9, 0xfe, 0xd9, 0xff, 0xd9, 0xfa, 0xd9, 0xe1}, 4},
      // fcomi st0,st1; fcmovb st0,st1; fxch st1; fucomi st0,st1
      {"compare", {0xdb, 0xf1, 0xda, 0xc1, 0xd9, 0xc9, 0xdb, 0xe9}, 4},
  };
  std::printf("x87 loops, %u iterations (ns per x87 instruction; loop overhead included)\n",
              kIterations);
  // The best of five runs of each, so that other load on the machine disturbs less.
  auto best = [](double (*measure)(const Loop&), const Loop& loop) {
    double seconds = measure(loop);
    for (int i = 0; i < 4; ++i) seconds = std::min(seconds, measure(loop));
    return seconds;
  };
  for (const Loop& loop : loops) {
    const double count = static_cast<double>(kIterations) * loop.instructions;
    const double native = best(native_seconds, loop) / count * 1e9;
    const double soft = best(soft_seconds, loop) / count * 1e9;
    std::printf("  %-15s soft %7.1f ns  native %6.2f ns  ratio %6.1f\n", loop.name, soft, native,
                soft / native);
  }
  return 0;
}
