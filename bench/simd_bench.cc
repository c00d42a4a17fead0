// SIMD throughput of the software CPU beside the host running the same bytes, in one run:
// glibc-style string scans (MOVDQA/MOVDQU, PCMPEQB, PMINUB, PMOVMSKB), packed integer work and
// floating point (which switches the host MXCSR per instruction). Prints guest instructions per
// second and the slowdown against native execution.
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

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kBase = 0x400000;
constexpr uint64_t kBuffer = kBase + 0x10000;
constexpr size_t kBufferSize = 1 << 16;

struct Program {
  const char* name;
  Bytes code;      // RDI = the buffer; ends where the terminator goes
  uint64_t insns;  // guest instructions per run
};

// Scan 64 KiB of non-zero bytes for the terminating zero, 16 bytes per iteration (strlen).
Program strlen_loop() {
  return {"strlen (MOVDQA PCMPEQB PMOVMSKB)",
          {0x66, 0x0f, 0xef, 0xc0,  // pxor xmm0, xmm0
           0x66, 0x0f, 0x6f, 0x0f,  // loop: movdqa xmm1, [rdi]
           0x66, 0x0f, 0x74, 0xc8,  // pcmpeqb xmm1, xmm0
           0x66, 0x0f, 0xd7, 0xc1,  // pmovmskb eax, xmm1
           0x48, 0x83, 0xc7, 0x10,  // add rdi, 16
           0x85, 0xc0,              // test eax, eax
           0x74, 0xec},             // jz loop
          1 + 6 * (kBufferSize / 16)};
}

// 32 bytes per iteration folded with PMINUB from memory (glibc's SSE2 strlen).
Program strlen_pminub_loop() {
  return {"strlen (MOVDQA PMINUB m128 PCMPEQB)",
          {0x66, 0x0f, 0xef, 0xc0,        // pxor xmm0, xmm0
           0x66, 0x0f, 0x6f, 0x0f,        // loop: movdqa xmm1, [rdi]
           0x66, 0x0f, 0xda, 0x4f, 0x10,  // pminub xmm1, [rdi+16]
           0x66, 0x0f, 0x74, 0xc8,        // pcmpeqb xmm1, xmm0
           0x66, 0x0f, 0xd7, 0xc1,        // pmovmskb eax, xmm1
           0x48, 0x83, 0xc7, 0x20,        // add rdi, 32
           0x85, 0xc0,                    // test eax, eax
           0x74, 0xe7},                   // jz loop
          1 + 7 * (kBufferSize / 32)};
}

// memchr for a zero byte, two unaligned vectors per iteration combined with POR.
Program memchr_loop() {
  return {"memchr (MOVDQU PCMPEQB POR PMOVMSKB)",
          {0x66, 0x0f, 0xef, 0xc0,        // pxor xmm0, xmm0
           0xf3, 0x0f, 0x6f, 0x0f,        // loop: movdqu xmm1, [rdi]
           0xf3, 0x0f, 0x6f, 0x57, 0x10,  // movdqu xmm2, [rdi+16]
           0x66, 0x0f, 0x74, 0xc8,        // pcmpeqb xmm1, xmm0
           0x66, 0x0f, 0x74, 0xd0,        // pcmpeqb xmm2, xmm0
           0x66, 0x0f, 0xeb, 0xca,        // por xmm1, xmm2
           0x66, 0x0f, 0xd7, 0xc1,        // pmovmskb eax, xmm1
           0x48, 0x83, 0xc7, 0x20,        // add rdi, 32
           0x85, 0xc0,                    // test eax, eax
           0x74, 0xdf},                   // jz loop
          1 + 9 * (kBufferSize / 32)};
}

constexpr uint32_t kFpIterations = 100000;

// Packed and scalar floating point: each instruction loads the guest MXCSR on the host.
Program fp_loop() {
  return {"floating point (ADDPS MULPS ADDSD)",
          {0xb9, 0xa0, 0x86, 0x01, 0x00,  // mov ecx, 100000
           0x0f, 0x58, 0xca,              // loop: addps xmm1, xmm2
           0x0f, 0x59, 0xcb,              // mulps xmm1, xmm3
           0xf2, 0x0f, 0x58, 0xe5,        // addsd xmm4, xmm5
           0xff, 0xc9,                    // dec ecx
           0x75, 0xf2},                   // jnz loop
          1 + 5 * kFpIterations};
}

// Packed integer arithmetic and shuffles.
Program integer_loop() {
  return {"integer (PADDD PMULLW PSHUFD PUNPCKLBW)",
          {0xb9, 0xa0, 0x86, 0x01, 0x00,  // mov ecx, 100000
           0x66, 0x0f, 0xfe, 0xca,        // loop: paddd xmm1, xmm2
           0x66, 0x0f, 0xd5, 0xcb,        // pmullw xmm1, xmm3
           0x66, 0x0f, 0x70, 0xc9, 0x1b,  // pshufd xmm1, xmm1, 1bh
           0x66, 0x0f, 0x60, 0xe1,        // punpcklbw xmm4, xmm1
           0xff, 0xc9,                    // dec ecx
           0x75, 0xeb},                   // jnz loop
          1 + 6 * kFpIterations};
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs the program natively `repeat` times (RDI = buffer), returns seconds per run.
double run_native(const Program& p, uint8_t* buffer, int repeat) {
  void* page =
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 0;
  auto* code = static_cast<uint8_t*>(page);
  std::memcpy(code, p.code.data(), p.code.size());
  code[p.code.size()] = 0xc3;  // RET
  auto fn = reinterpret_cast<void (*)(uint8_t*)>(page);
  const auto start = Clock::now();
  for (int i = 0; i < repeat; ++i) fn(buffer);
  const double t = seconds_since(start) / repeat;
  ::munmap(page, 4096);
  return t;
}

// Runs the program on the software CPU `repeat` times, returns seconds per run.
double run_soft(const Program& p, int repeat) {
  cella::testing::FlatMemory memory(kBase, 0x10000 + kBufferSize + 0x1000);
  std::memset(memory.host(kBuffer), 0x5a, kBufferSize);
  *memory.host(kBuffer + kBufferSize - 1) = 0;
  Bytes code = p.code;
  code.push_back(0x0f);  // UD2: leave the run loop
  code.push_back(0x0b);
  memory.write(kBase, code);
  cella::soft::CodeCache cache;
  const cella::x86::CpuidPolicy cpuid = cella::soft::soft_cpuid_policy();
  cella::soft::SoftCpu cpu(memory, cache, cpuid);
  cpu.arch.cr4 |= cella::x86::cr4::kOsfxsr | cella::x86::cr4::kOsxmmexcpt;
  const auto start = Clock::now();
  for (int i = 0; i < repeat; ++i) {
    cpu.rip = kBase;
    cpu.gpr[7] = kBuffer;
    cpu.run();
  }
  return seconds_since(start) / repeat;
}

}  // namespace

// `simd_bench soft` runs only the software CPU (for profiling).
int main(int argc, char** argv) {
  const bool soft_only = argc > 1 && std::strcmp(argv[1], "soft") == 0;
  std::vector<uint8_t> buffer(kBufferSize + 64, 0x5a);
  auto* aligned = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(buffer.data()) + 63) &
                                             ~uintptr_t{63});
  aligned[kBufferSize - 1] = 0;
  std::printf("%-40s %14s %12s %10s\n", "loop", "soft Minsn/s", "native ns", "slowdown");
  // The best of several trials of each, so that other load on the machine does not count.
  for (const Program& p :
       {strlen_loop(), strlen_pminub_loop(), memchr_loop(), fp_loop(), integer_loop()}) {
    double native = 1e9, soft = 1e9;
    for (int trial = 0; trial < 5; ++trial) {
      if (!soft_only) native = std::min(native, run_native(p, aligned, 400));
      soft = std::min(soft, run_soft(p, 4));
    }
    std::printf("%-40s %14.1f %12.0f %9.1fx\n", p.name, p.insns / soft / 1e6, native * 1e9,
                soft / native);
  }
  return 0;
}
