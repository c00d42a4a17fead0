// The machine end to end: tiny guest "kernels" (an ELF64 executable with one PT_LOAD segment at
// 1 MiB, assembled with Xbyak) booted through the 64-bit boot protocol on the software CPU, with
// the serial console on pipes. Each test drives one path of the platform (COM1, ACPI power off,
// the i8042 reset line, the local APIC timer, the 8259 behind LINT0, RAM above 4 GiB) and checks
// what run() reports.
#include "machine/machine.h"

#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <xbyak/xbyak.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <thread>
#include <tuple>

#include "tests/support/temp_dir.h"

namespace cella::machine {
namespace {

using namespace Xbyak::util;

// Guest-physical layout of the test kernels (all inside the one segment, identity-mapped by
// the boot protocol's page tables).
constexpr uint64_t kLoad = 0x100000;      // code, and the ELF entry point
constexpr uint64_t kIdtr = 0x10f000;      // the IDTR image for LIDT
constexpr uint64_t kIdt = 0x110000;       // 256 gates
constexpr uint64_t kPageDir = 0x120000;   // a page directory for 4 GiB .. 5 GiB
constexpr uint64_t kStackTop = 0x1f0000;  // our own stack
constexpr uint64_t kSegmentBytes = 0x100000;

constexpr uint64_t kLapic = 0xfee00000;
constexpr uint16_t kCom1 = 0x3f8, kLsr = kCom1 + 5;
constexpr uint16_t kPm1aCnt = 0x604;
constexpr uint16_t kPowerOff = (5 << 10) | (1 << 13);  // SLP_TYP = 5 (\_S5), SLP_EN

// Xbyak, plus the system instructions it lacks and the platform idioms the tests share.
struct Guest : Xbyak::CodeGenerator {
  Guest() : Xbyak::CodeGenerator(4096, Xbyak::DontSetProtectRWE) { mov(rsp, kStackTop); }
  void bytes(std::initializer_list<uint8_t> b) {
    for (uint8_t x : b) db(x);
  }
  void lidt_rax() { bytes({0x0f, 0x01, 0x18}); }
  void mov_cr3_rax() { bytes({0x0f, 0x22, 0xd8}); }
  void mov_rax_cr3() { bytes({0x0f, 0x20, 0xd8}); }

  // Transmits AL on COM1 once the transmit holding register is empty (LSR bit 5). Uses DX, CL.
  void serial_put_al() {
    Xbyak::Label wait;
    mov(cl, al);
    mov(dx, kLsr);
    L(wait);
    in_(al, dx);
    test(al, 0x20);
    jz(wait);
    mov(dx, kCom1);
    mov(al, cl);
    out_(dx, al);
  }
  void serial_put(char c) {
    mov(al, static_cast<uint8_t>(c));
    serial_put_al();
  }
  // RAX = the time-stamp counter. Clobbers RDX.
  void rdtsc64() {
    rdtsc();
    shl(rdx, 32);
    or_(rax, rdx);
  }
  // Transmits RBX as 16 hexadecimal digits. Uses RAX, RBX, CL, DX, R13.
  void serial_put_hex_rbx() {
    Xbyak::Label digit, decimal;
    mov(r13d, 16);
    L(digit);
    rol(rbx, 4);
    mov(al, bl);
    and_(al, 0xf);
    cmp(al, 10);
    jb(decimal);
    add(al, 'a' - 10 - '0');
    L(decimal);
    add(al, '0');
    serial_put_al();
    dec(r13d);
    jnz(digit);
  }
  // ACPI S5; should the platform ignore it, HLT with IF clear ends the run differently.
  void power_off() {
    mov(dx, kPm1aCnt);
    mov(ax, kPowerOff);
    out_(dx, ax);
    cli();
    hlt();
  }
  // A 64-bit interrupt gate (SDM Vol. 3A 6.14.1) for `vector` to `handler`, and LIDT of the
  // whole 256-entry table. Uses RAX, RDI.
  void install_idt(uint8_t vector, const Xbyak::Label& handler) {
    lea(rax, ptr[rip + handler]);
    mov(rdi, kIdt + vector * 16ull);
    mov(word[rdi], ax);
    mov(word[rdi + 2], 0x10);    // __BOOT_CS
    mov(word[rdi + 4], 0x8e00);  // present, DPL 0, type 0xE (interrupt gate), IST 0
    shr(rax, 16);
    mov(word[rdi + 6], ax);
    shr(rax, 16);
    mov(dword[rdi + 8], eax);
    mov(dword[rdi + 12], 0);
    mov(rax, kIdtr);
    mov(word[rax], 256 * 16 - 1);
    mov(rdi, kIdt);
    mov(qword[rax + 2], rdi);
    lidt_rax();
  }
  void lapic_write(uint32_t offset, uint32_t value) {
    mov(rdi, kLapic + offset);
    mov(dword[rdi], value);
  }
  std::vector<uint8_t> code() const { return {getCode(), getCode() + getSize()}; }
};

// A minimal x86-64 ELF executable: one PT_LOAD segment of `code` at `kLoad` (physical and
// virtual), zero-filled to kSegmentBytes, entry at its first byte.
std::vector<uint8_t> make_elf(const std::vector<uint8_t>& code) {
  constexpr size_t kCodeOffset = 0x1000;
  std::vector<uint8_t> file(kCodeOffset + code.size(), 0);
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_type = ET_EXEC;
  header.e_machine = EM_X86_64;
  header.e_version = EV_CURRENT;
  header.e_entry = kLoad;
  header.e_phoff = sizeof(Elf64_Ehdr);
  header.e_ehsize = sizeof(Elf64_Ehdr);
  header.e_phentsize = sizeof(Elf64_Phdr);
  header.e_phnum = 1;
  Elf64_Phdr segment{};
  segment.p_type = PT_LOAD;
  segment.p_flags = PF_R | PF_W | PF_X;
  segment.p_offset = kCodeOffset;
  segment.p_vaddr = segment.p_paddr = kLoad;
  segment.p_filesz = code.size();
  segment.p_memsz = kSegmentBytes;
  segment.p_align = 0x1000;
  std::memcpy(file.data(), &header, sizeof(header));
  std::memcpy(file.data() + sizeof(header), &segment, sizeof(segment));
  std::memcpy(file.data() + kCodeOffset, code.data(), code.size());
  return file;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
  // What the pipe holds now, without blocking.
  std::string drain() const {
    ::fcntl(read, F_SETFL, ::fcntl(read, F_GETFL) | O_NONBLOCK);
    std::string data;
    char buffer[4096];
    for (ssize_t n; (n = ::read(read, buffer, sizeof(buffer))) > 0;) data.append(buffer, n);
    return data;
  }
};

MachineConfig small_config(const std::string& kernel) {
  MachineConfig config;
  config.kernel_path = kernel;
  config.memory_bytes = 32ull << 20;
  config.engine = Engine::kSoft;
  return config;
}

struct BootOptions {
  std::string input;  // waiting in the console's input pipe when run() starts
  // Written into the input pipe `late_input_after` into run().
  std::string late_input;
  std::chrono::milliseconds late_input_after{0};
  uint64_t memory_bytes = 32ull << 20;
  // request_stop() from another thread this long into run().
  std::optional<std::chrono::milliseconds> request_stop_after;
};

struct GuestRun {
  RunOutcome outcome;
  std::string output;                   // what the guest wrote to COM1
  std::chrono::nanoseconds run_time{};  // host time in run()
  bool needed_kick = false;  // run() ignored request_stop() until its input pipe was written
};

// Boots `guest` with the console on pipes and runs it. A watchdog stops a guest that still runs
// after 10 s (request_stop(), then a byte on the input pipe should the vCPU sleep through it).
GuestRun boot(const Guest& guest, const BootOptions& options = {}) {
  GuestRun run;
  cella::testing::TempDir dir;
  const std::string kernel = dir.file("kernel.elf");
  write_bytes(kernel, make_elf(guest.code()));
  Pipe in, out;
  if (!options.input.empty()) {
    EXPECT_EQ(::write(in.write, options.input.data(), options.input.size()),
              static_cast<ssize_t>(options.input.size()));
  }
  auto console = StdioConsole::open(in.read, out.write);
  EXPECT_TRUE(console.ok()) << console.error().message();
  if (!console.ok()) return run;
  MachineConfig config = small_config(kernel);
  config.memory_bytes = options.memory_bytes;
  auto machine = Machine::create(config, console->get());
  EXPECT_TRUE(machine.ok()) << machine.error().message();
  if (!machine.ok()) return run;

  std::promise<void> finished;
  std::shared_future<void> done = finished.get_future().share();
  std::vector<std::thread> helpers;
  if (!options.late_input.empty()) {
    helpers.emplace_back([&] {
      if (done.wait_for(options.late_input_after) != std::future_status::timeout) return;
      EXPECT_EQ(::write(in.write, options.late_input.data(), options.late_input.size()),
                static_cast<ssize_t>(options.late_input.size()));
    });
  }
  std::atomic<bool> kicked{false};
  helpers.emplace_back([&] {
    const auto first = options.request_stop_after.value_or(std::chrono::seconds(10));
    if (done.wait_for(first) != std::future_status::timeout) return;
    (*machine)->request_stop();
    if (done.wait_for(std::chrono::seconds(2)) != std::future_status::timeout) return;
    kicked = true;
    EXPECT_EQ(::write(in.write, "\n", 1), 1);
  });
  const auto start = std::chrono::steady_clock::now();
  run.outcome = (*machine)->run();
  run.run_time = std::chrono::steady_clock::now() - start;
  finished.set_value();
  for (std::thread& helper : helpers) helper.join();
  run.needed_kick = kicked;
  (*console)->flush();
  run.output = out.drain();
  return run;
}

std::string describe_run(const GuestRun& run) {
  return std::string(describe(run.outcome.reason)) + " (" + run.outcome.detail + ")\noutput: \"" +
         run.output + "\"\n" + run.outcome.state_dump;
}

TEST(Machine, SerialOutputThenPowerOff) {
  Guest g;
  for (char c : std::string("hello\n")) g.serial_put(c);
  g.power_off();
  const GuestRun run = boot(g);
  EXPECT_EQ(run.outcome.reason, StopReason::kPowerOff) << describe_run(run);
  EXPECT_EQ(run.output, "hello\n");
  EXPECT_FALSE(run.outcome.guest_failed());
  EXPECT_TRUE(run.outcome.state_dump.empty());
  EXPECT_GT(run.outcome.instructions, 0u);
}

TEST(Machine, I8042ResetPulse) {
  Guest g;
  g.mov(al, 0xfe);
  g.out_(0x64, al);
  g.cli();
  g.hlt();
  const GuestRun run = boot(g);
  EXPECT_EQ(run.outcome.reason, StopReason::kReset) << describe_run(run);
  EXPECT_TRUE(run.outcome.guest_failed());
}

TEST(Machine, TripleFaultWithEmptyIdt) {
  Guest g;
  Xbyak::Label fault;
  g.mov(rax, kIdtr);
  g.mov(word[rax], 0);  // limit 0: no gate can be read
  g.mov(qword[rax + 2], 0);
  g.lidt_rax();
  g.L(fault);
  g.ud2();
  g.power_off();  // not reached
  const uint64_t fault_rip = kLoad + (fault.getAddress() - g.getCode());
  const GuestRun run = boot(g);
  EXPECT_EQ(run.outcome.reason, StopReason::kTripleFault) << describe_run(run);
  EXPECT_TRUE(run.outcome.guest_failed());
  EXPECT_NE(run.outcome.state_dump.find("RIP="), std::string::npos) << run.outcome.state_dump;
  EXPECT_NE(run.outcome.state_dump.find(fmt::format("RIP={:016x}", fault_rip)), std::string::npos)
      << run.outcome.state_dump;
}

TEST(Machine, HltWithInterruptsDisabledHaltsForever) {
  Guest g;
  g.cli();
  g.hlt();
  g.power_off();  // not reached
  const GuestRun run = boot(g);
  EXPECT_EQ(run.outcome.reason, StopReason::kHaltedForever) << describe_run(run);
  EXPECT_NE(run.outcome.state_dump.find("RIP="), std::string::npos);
}

// The guest notes the time-stamp counter in R12 when it starts a timer and sleeps (STI; HLT).
// The handler checks that the interrupt came in at `after_hlt` (it woke the HLT), sends `tag`
// ('!' otherwise) and the TSC ticks since R12 in hex, acknowledges the interrupt with `eoi`
// and powers off.
void sleep_until_interrupt(Guest& g, Xbyak::Label& handler, char tag,
                           const std::function<void()>& eoi) {
  Xbyak::Label after_hlt, spin, send;
  g.sti();
  g.hlt();
  g.L(after_hlt);
  g.L(spin);  // a wake without an interrupt would come here: halt again
  g.hlt();
  g.jmp(spin);
  g.L(handler);
  g.rdtsc64();
  g.sub(rax, r12);
  g.mov(rbx, rax);
  g.lea(rax, ptr[rip + after_hlt]);
  g.cmp(qword[rsp], rax);  // the interrupt frame's RIP
  g.mov(al, static_cast<uint8_t>(tag));
  g.je(send);
  g.mov(al, '!');
  g.L(send);
  g.serial_put_al();
  g.serial_put_hex_rbx();
  eoi();
  g.power_off();
}

// The handler's report: the tag, then how long the guest slept in TSC ticks (at least
// `at_least`: the interrupt came when due, not before; guest and host time agree). Returns what
// the guest sent after the report.
std::string expect_woken(const GuestRun& run, char tag, std::chrono::milliseconds at_least) {
  EXPECT_EQ(run.outcome.reason, StopReason::kPowerOff) << describe_run(run);
  EXPECT_GE(run.output.size(), 17u) << run.output;
  if (run.output.size() < 17) return {};
  EXPECT_EQ(run.output[0], tag) << run.output;
  const uint64_t ticks = std::stoull(run.output.substr(1, 16), nullptr, 16);
  const auto slept = std::chrono::nanoseconds(ticks * 1'000'000'000 / Machine::kTscHz);
  EXPECT_GE(slept, at_least) << "guest TSC ticks " << ticks;
  EXPECT_LT(slept, std::chrono::seconds(2));
  EXPECT_GE(run.run_time, at_least);
  return run.output.substr(17);
}

TEST(Machine, LapicTimerWakesHlt) {
  Guest g;
  Xbyak::Label handler;
  g.install_idt(0x40, handler);
  g.lapic_write(0xf0, 0x1ff);  // SVR: APIC software enabled, spurious vector 0xff
  g.lapic_write(0x3e0, 0xb);   // divide by 1
  g.lapic_write(0x320, 0x40);  // LVT timer: one-shot, vector 0x40, not masked
  g.rdtsc64();
  g.mov(r12, rax);
  g.lapic_write(0x380, 20'000'000);  // initial count: 10 ms of the 2 GHz timer clock
  sleep_until_interrupt(g, handler, 'T', [&] { g.lapic_write(0xb0, 0); });
  expect_woken(boot(g), 'T', std::chrono::milliseconds(9));
}

// The TSC-deadline mode (LVT timer bits 18:17 = 2, IA32_TSC_DEADLINE), which Linux prefers when
// CPUID.1:ECX.TSC_Deadline is set, as it is on this machine.
TEST(Machine, LapicTscDeadlineTimerWakesHlt) {
  Guest g;
  Xbyak::Label handler;
  g.install_idt(0x41, handler);
  g.lapic_write(0xf0, 0x1ff);
  g.lapic_write(0x320, (2 << 17) | 0x41);
  g.mfence();  // SDM Vol. 3A 11.5.4.1: the LVT write before the deadline's WRMSR
  g.rdtsc64();
  g.mov(r12, rax);
  g.add(rax, 20'000'000);  // 10 ms
  g.mov(rdx, rax);
  g.shr(rdx, 32);
  g.mov(ecx, 0x6e0);  // IA32_TSC_DEADLINE
  g.wrmsr();
  sleep_until_interrupt(g, handler, 'D', [&] { g.lapic_write(0xb0, 0); });
  expect_woken(boot(g), 'D', std::chrono::milliseconds(9));
}

// The local APIC in x2APIC mode (IA32_APIC_BASE EXTD): the timer through MSRs 0x800-0x8ff.
TEST(Machine, X2ApicTimerWakesHlt) {
  Guest g;
  Xbyak::Label handler;
  auto wrmsr = [&](uint32_t index, uint32_t value) {
    g.mov(ecx, index);
    g.mov(eax, value);
    g.xor_(edx, edx);
    g.wrmsr();
  };
  g.install_idt(0x42, handler);
  g.mov(ecx, 0x1b);  // IA32_APIC_BASE: EN and EXTD
  g.rdmsr();
  g.or_(eax, 0xc00);
  g.wrmsr();
  wrmsr(0x80f, 0x1ff);  // SVR
  wrmsr(0x83e, 0xb);    // divide by 1
  wrmsr(0x832, 0x42);   // LVT timer: one-shot, vector 0x42
  g.rdtsc64();
  g.mov(r12, rax);
  wrmsr(0x838, 20'000'000);  // initial count: 10 ms
  sleep_until_interrupt(g, handler, 'X', [&] { wrmsr(0x80b, 0); });
  expect_woken(boot(g), 'X', std::chrono::milliseconds(9));
}

// The 8259 pair: ICW1 (edge, cascade, ICW4), ICW2 (vector base), ICW3 (cascade on IRQ2), ICW4
// (8086 mode); then all IRQs masked but those in `unmasked` (of the master).
void init_8259(Guest& g, uint8_t unmasked = 0x01) {
  for (const auto& [command, data, base, cascade] :
       {std::tuple{0x20, 0x21, 0x20, 0x04}, std::tuple{0xa0, 0xa1, 0x28, 0x02}}) {
    g.mov(al, 0x11);
    g.out_(static_cast<uint8_t>(command), al);
    g.mov(al, static_cast<uint8_t>(base));
    g.out_(static_cast<uint8_t>(data), al);
    g.mov(al, static_cast<uint8_t>(cascade));
    g.out_(static_cast<uint8_t>(data), al);
    g.mov(al, 0x01);
    g.out_(static_cast<uint8_t>(data), al);
  }
  g.mov(al, static_cast<uint8_t>(~unmasked));
  g.out_(0x21, al);
  g.mov(al, 0xff);
  g.out_(0xa1, al);
}

// PIT channel 0: lobyte/hibyte, mode 2 (rate generator), binary; 11932 ticks of 1.193182 MHz
// = 10 ms.
void start_pit_10ms(Guest& g) {
  g.mov(al, 0x34);
  g.out_(0x43, al);
  g.mov(al, 11932 & 0xff);
  g.out_(0x40, al);
  g.mov(al, 11932 >> 8);
  g.out_(0x40, al);
}

void pic_eoi(Guest& g) {
  g.mov(al, 0x20);  // non-specific EOI
  g.out_(0x20, al);
}

void lapic_virtual_wire(Guest& g) {
  g.lapic_write(0xf0, 0x1ff);   // SVR: software enabled (LVT masks can be cleared)
  g.lapic_write(0x350, 0x700);  // LVT LINT0: ExtINT, not masked (the virtual wire)
  g.lapic_write(0x360, 0x400);  // LVT LINT1: NMI, as firmware leaves it
}

// What Linux does: the 8259 set up first, then the PIT started with IRQ0 unmasked. The
// interrupt reaches the handler of vector 0x20 through LINT0 in ExtINT mode, at the end of the
// first period: firmware left counter 0 running (PcPlatform::firmware_setup), so reprogramming
// it raises no early edge.
TEST(Machine, PitIrq0ThroughThe8259OnLint0WakesHltAfterOnePeriod) {
  Guest g;
  Xbyak::Label handler;
  g.install_idt(0x20, handler);
  lapic_virtual_wire(g);
  init_8259(g);
  g.rdtsc64();
  g.mov(r12, rax);
  start_pit_10ms(g);
  sleep_until_interrupt(g, handler, 'P', [&] { pic_eoi(g); });
  expect_woken(boot(g), 'P', std::chrono::milliseconds(9));
}

// The PIT started before the 8259 is initialized: ICW1 resets the edge sense, so only the end
// of the first period interrupts.
TEST(Machine, PitIrq0StartedBeforeThe8259WakesHltAfterOnePeriod) {
  Guest g;
  Xbyak::Label handler;
  g.install_idt(0x20, handler);
  lapic_virtual_wire(g);
  g.rdtsc64();
  g.mov(r12, rax);
  start_pit_10ms(g);
  init_8259(g);
  sleep_until_interrupt(g, handler, 'P', [&] { pic_eoi(g); });
  expect_woken(boot(g), 'P', std::chrono::milliseconds(9));
}

// COM1's receive interrupt (IER bit 0, MCR OUT2) on IRQ4 through the 8259 wakes a vCPU that
// sleeps with no timer armed: the machine's poll() watches the console input.
TEST(Machine, SerialInputInterruptWakesHlt) {
  Guest g;
  Xbyak::Label handler;
  g.install_idt(0x24, handler);
  lapic_virtual_wire(g);
  init_8259(g, 1 << 4);
  g.mov(dx, kCom1 + 1);  // IER: received data available
  g.mov(al, 0x01);
  g.out_(dx, al);
  g.mov(dx, kCom1 + 4);  // MCR: DTR, RTS, OUT2 (the IRQ driver)
  g.mov(al, 0x0b);
  g.out_(dx, al);
  g.rdtsc64();
  g.mov(r12, rax);
  sleep_until_interrupt(g, handler, 'S', [&] {
    g.mov(dx, kCom1);  // RBR
    g.in_(al, dx);
    g.serial_put_al();  // echo
    pic_eoi(g);
  });
  BootOptions options;
  options.late_input = "k";
  options.late_input_after = std::chrono::milliseconds(50);
  const GuestRun run = boot(g, options);
  // The handler echoes the byte it read, so it ran after the input arrived; how long the guest
  // slept before that depends on host scheduling, so no lower bound on it.
  EXPECT_EQ(expect_woken(run, 'S', std::chrono::milliseconds(0)), "k");
  EXPECT_FALSE(run.needed_kick);
}

// request_stop() from another thread ends run() while the vCPU sleeps in HLT with interrupts
// enabled and nothing armed: its eventfd wakes the machine's poll(), which would otherwise wait
// for console input (the watchdog's kick, 2 s later).
TEST(Machine, RequestStopEndsAHaltedRun) {
  Guest g;
  Xbyak::Label spin;
  g.sti();
  g.L(spin);
  g.hlt();
  g.jmp(spin);
  BootOptions options;
  options.request_stop_after = std::chrono::milliseconds(50);
  const GuestRun run = boot(g, options);
  EXPECT_EQ(run.outcome.reason, StopReason::kStopRequested) << describe_run(run);
  EXPECT_FALSE(run.outcome.guest_failed());
  EXPECT_FALSE(run.needed_kick) << "run() slept through request_stop() until console input came";
  EXPECT_LT(run.run_time, std::chrono::seconds(2));
}

TEST(Machine, SerialInputEchoes) {
  Guest g;
  Xbyak::Label next, wait;
  g.L(next);
  g.mov(dx, kLsr);
  g.L(wait);
  g.in_(al, dx);
  g.test(al, 0x01);  // LSR data ready
  g.jz(wait);
  g.mov(dx, kCom1);
  g.in_(al, dx);  // RBR
  g.mov(bl, al);
  g.serial_put_al();
  g.cmp(bl, '\n');
  g.jne(next);
  g.power_off();
  BootOptions options;
  options.input = "ping 123\n";
  const GuestRun run = boot(g, options);
  EXPECT_EQ(run.outcome.reason, StopReason::kPowerOff) << describe_run(run);
  EXPECT_EQ(run.output, "ping 123\n");
}

// Maps 4 GiB .. 5 GiB with 2 MiB pages (PDPT entry 4 of the boot page tables), then writes and
// reads back a value at 4 GiB + 1 MiB and at 4 GiB + 257 MiB; sends 'R' for each that held the
// value (RAM) and 'U' for each that did not.
void above_4g_probe(Guest& g) {
  Xbyak::Label fill, next_probe, send;
  g.mov(rdi, kPageDir);
  g.mov(rax, 0x100000000ull | 0x83);  // 4 GiB, present, writable, 2 MiB page
  g.mov(ecx, 512);
  g.mov(rdx, 0x200000);
  g.L(fill);
  g.mov(qword[rdi], rax);
  g.add(rdi, 8);
  g.add(rax, rdx);
  g.dec(ecx);
  g.jnz(fill);
  g.mov(rdx, ~uint64_t{0xfff});
  g.mov_rax_cr3();
  g.and_(rax, rdx);
  g.mov(rsi, qword[rax]);  // PML4[0] -> the PDPT
  g.and_(rsi, rdx);
  g.mov(qword[rsi + 4 * 8], kPageDir | 0x3);
  g.mov_rax_cr3();
  g.mov_cr3_rax();  // flush the TLB
  g.mov(r8, 0x100100000ull);
  g.mov(r9, 0x110100000ull);
  g.mov(r10, 0x5a5a1234cafef00dull);
  for (const Xbyak::Reg64& address : {r8, r9}) {
    Xbyak::Label ram, done;
    g.mov(qword[address], r10);
    g.mov(r11, qword[address]);
    g.cmp(r11, r10);
    g.mov(al, 'R');
    g.je(done);
    g.mov(al, 'U');
    g.L(done);
    g.serial_put_al();
  }
  g.power_off();
}

TEST(Machine, RamAbove4GiB) {
  // 3 GiB: RAM below the PCI hole ends at 2.75 GiB, so 256 MiB continue at 4 GiB.
  Guest probe;
  above_4g_probe(probe);
  BootOptions options;
  options.memory_bytes = 3ull << 30;
  const GuestRun three = boot(probe, options);
  EXPECT_EQ(three.outcome.reason, StopReason::kPowerOff) << describe_run(three);
  EXPECT_EQ(three.output, "RU");
  // 5 GiB: 2.25 GiB at 4 GiB.
  options.memory_bytes = 5ull << 30;
  const GuestRun five = boot(probe, options);
  EXPECT_EQ(five.outcome.reason, StopReason::kPowerOff) << describe_run(five);
  EXPECT_EQ(five.output, "RR");
}

class MachineCreate : public ::testing::Test {
 protected:
  void SetUp() override {
    Guest g;
    g.power_off();
    kernel_ = dir_.file("kernel.elf");
    write_bytes(kernel_, make_elf(g.code()));
  }
  std::string create_error(const MachineConfig& config) {
    auto machine = Machine::create(config, nullptr);
    EXPECT_FALSE(machine.ok());
    return machine.ok() ? std::string() : machine.error().message();
  }
  cella::testing::TempDir dir_;
  std::string kernel_;
};

TEST_F(MachineCreate, ValidKernelRunsWithoutConsole) {
  auto machine = Machine::create(small_config(kernel_), nullptr);
  ASSERT_TRUE(machine.ok()) << machine.error().message();
  EXPECT_EQ((*machine)->run().reason, StopReason::kPowerOff);
}

TEST_F(MachineCreate, MissingKernelFile) {
  const std::string missing = dir_.file("no-such-kernel");
  const std::string error = create_error(small_config(missing));
  EXPECT_NE(error.find(missing), std::string::npos) << error;
}

TEST_F(MachineCreate, GarbageKernel) {
  const std::string garbage = dir_.file("garbage");
  write_bytes(garbage, std::vector<uint8_t>(8192, 0x90));
  const std::string error = create_error(small_config(garbage));
  EXPECT_NE(error.find("not a Linux kernel"), std::string::npos) << error;
  EXPECT_NE(error.find(garbage), std::string::npos) << error;
}

TEST_F(MachineCreate, TwoCpus) {
  MachineConfig config = small_config(kernel_);
  config.cpus = 2;
  const std::string error = create_error(config);
  EXPECT_NE(error.find("--cpus 2"), std::string::npos) << error;
}

TEST_F(MachineCreate, KvmEngine) {
  MachineConfig config = small_config(kernel_);
  config.engine = Engine::kKvm;
  const std::string error = create_error(config);
  EXPECT_NE(error.find("kvm"), std::string::npos) << error;
}

TEST_F(MachineCreate, MemoryBelowMinimum) {
  MachineConfig config = small_config(kernel_);
  config.memory_bytes = 8ull << 20;
  const std::string error = create_error(config);
  EXPECT_NE(error.find("8 MiB"), std::string::npos) << error;
  EXPECT_NE(error.find("memory"), std::string::npos) << error;
}

}  // namespace
}  // namespace cella::machine
