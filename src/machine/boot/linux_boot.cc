#include "machine/boot/linux_boot.h"

#include <algorithm>

#include "base/bits.h"
#include "machine/boot/zero_page.h"

namespace cella::machine {
namespace {

namespace layout = boot_layout;

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t k4GiB = 1ull << 32;

uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

bool in_ram(const std::vector<E820Entry>& map, uint64_t address, uint64_t size) {
  return std::any_of(map.begin(), map.end(), [&](const E820Entry& e) {
    return e.type == E820Type::kRam && address >= e.address && size <= e.size &&
           address - e.address <= e.size - size;
  });
}

Result<void> check_memory_map(const std::vector<E820Entry>& map) {
  if (map.empty() || map.size() > zero_page::kE820MaxEntries) {
    return make_error("memory map has {} entries (1 to {} allowed)", map.size(),
                      zero_page::kE820MaxEntries);
  }
  for (size_t i = 0; i < map.size(); ++i) {
    const E820Entry& e = map[i];
    if (e.size == 0 || e.address + e.size < e.address) {
      return make_error("memory map entry {:#x}+{:#x} is empty or wraps", e.address, e.size);
    }
    if (i > 0 && e.address < map[i - 1].address + map[i - 1].size) {
      return make_error("memory map entries at {:#x} and {:#x} overlap or are unsorted",
                        map[i - 1].address, e.address);
    }
  }
  if (!in_ram(map, 0, layout::kLowMemoryEnd)) {
    return make_error("the boot layout needs RAM from 0 to {:#x}", layout::kLowMemoryEnd);
  }
  return ok();
}

// Where the kernel goes: its preferred address when that is RAM, else (relocatable kernels)
// the lowest suitably aligned RAM above 1 MiB with room for init_size.
Result<uint64_t> place_kernel(const KernelImage& kernel, const std::vector<E820Entry>& map) {
  if (in_ram(map, kernel.preferred_address, kernel.init_size)) return kernel.preferred_address;
  if (kernel.kind == KernelImage::Kind::kBzImage && kernel.relocatable) {
    for (const E820Entry& e : map) {
      if (e.type != E820Type::kRam) continue;
      const uint64_t start = align_up(std::max<uint64_t>(e.address, 0x100000), kernel.alignment);
      if (in_ram(map, start, kernel.init_size)) return start;
    }
  }
  return make_error("no RAM for the kernel: it needs {:#x} bytes at {:#x}{}", kernel.init_size,
                    kernel.preferred_address,
                    kernel.relocatable ? " or anywhere aligned" : " (not relocatable)");
}

// The initrd goes as high as allowed (as boot loaders do), page-aligned, clear of the kernel.
Result<uint64_t> place_initrd(const KernelImage& kernel, const std::vector<E820Entry>& map,
                              uint64_t kernel_address, uint64_t size) {
  const uint64_t limit = kernel.initrd_above_4g ? ~0ull : std::min(kernel.initrd_max, k4GiB - 1);
  for (auto it = map.rbegin(); it != map.rend(); ++it) {
    if (it->type != E820Type::kRam || it->address > limit) continue;
    uint64_t end = std::min(it->address + it->size - 1, limit) + 1;  // exclusive
    if (end - it->address < size) continue;
    uint64_t start = (end - size) & ~(kPageSize - 1);
    // Below the kernel if it would overlap it.
    if (start < kernel_address + kernel.init_size && start + size > kernel_address) {
      if (kernel_address < size) continue;
      start = (kernel_address - size) & ~(kPageSize - 1);
    }
    if (start >= std::max<uint64_t>(it->address, 0x100000) && in_ram(map, start, size)) {
      return start;
    }
  }
  return make_error("no RAM for an initrd of {} bytes below {:#x}", size, limit);
}

std::vector<uint8_t> le64_table(std::span<const uint64_t> entries) {
  std::vector<uint8_t> bytes(entries.size() * 8);
  for (size_t i = 0; i < entries.size(); ++i) store_le<uint64_t>(&bytes[i * 8], entries[i]);
  return bytes;
}

// SDM Vol. 3A 4.5: PML4 -> PDPT -> four page directories of 2 MiB pages (PS), identity-mapping
// the first 4 GiB; present, writable, supervisor.
void add_identity_page_tables(BootPlan& plan) {
  constexpr uint64_t kPresent = 1, kWritable = 2, kPageSize2M = 1 << 7;
  std::vector<uint64_t> pml4(512, 0), pdpt(512, 0), directories(4 * 512);
  pml4[0] = layout::kPdpt | kPresent | kWritable;
  for (uint64_t i = 0; i < 4; ++i) {
    pdpt[i] = (layout::kPageDirectories + i * kPageSize) | kPresent | kWritable;
  }
  for (uint64_t i = 0; i < directories.size(); ++i) {
    directories[i] = (i << 21) | kPresent | kWritable | kPageSize2M;
  }
  plan.segments.push_back({layout::kPml4, le64_table(pml4), 0});
  plan.segments.push_back({layout::kPdpt, le64_table(pdpt), 0});
  plan.segments.push_back({layout::kPageDirectories, le64_table(directories), 0});
}

// Boot protocol "64-bit BOOT PROTOCOL": a GDT with 4 GiB flat __BOOT_CS (execute/read, here
// 64-bit) and __BOOT_DS (read/write) descriptors (SDM Vol. 3A 3.4.5, Figure 3-8).
void add_gdt(BootPlan& plan) {
  const uint64_t gdt[] = {
      0, 0,
      0x00af9b000000ffff,  // 0x10: code, DPL 0, present, L=1, G=1
      0x00cf93000000ffff,  // 0x18: data, DPL 0, present, D/B=1, G=1
  };
  plan.segments.push_back({layout::kGdt, le64_table(gdt), 0});
}

// The boot CPU at the 64-bit entry: long mode with paging, flat segments, interrupts off,
// RSI = boot_params.
x86::ArchState entry_state(uint64_t entry) {
  x86::ArchState s;
  s.rip = entry;
  s.rflags = 0x2;
  s.reg(x86::Gpr::kRsi) = layout::kZeroPage;
  s.reg(x86::Gpr::kRsp) = layout::kStackTop;
  s.cr0 = 0x80000031;  // PG | NE | ET | PE (SDM Vol. 3A 2.5)
  s.cr3 = layout::kPml4;
  s.cr4 = 0x20;    // PAE
  s.efer = 0x500;  // LMA | LME (SDM Vol. 3A 2.2.1)
  for (auto& segment : s.segment) {
    segment = {layout::kBootDs, 0, 0xffffffff, 0xc093};  // data: type 3, S, P, D/B, G
  }
  s.seg(x86::Segment::kCs) = {layout::kBootCs, 0, 0xffffffff, 0xa09b};  // code: type B, L, G
  s.tr = {0, 0, 0x67, 0x8b};  // a busy 64-bit TSS; Linux loads its own before use
  s.ldtr = {0, 0, 0, 0x82};   // a null, empty LDT (type 2, present)
  s.gdtr = {layout::kGdt, 4 * 8 - 1};
  s.idtr = {0, 0};
  return s;
}

}  // namespace

Result<BootPlan> plan_linux_boot(const KernelImage& kernel, const BootConfig& config) {
  CELLA_TRY(check_memory_map(config.memory_map));
  if (config.cmdline.size() > kernel.cmdline_max) {
    return make_error("kernel command line is {} bytes; this kernel accepts at most {}",
                      config.cmdline.size(), kernel.cmdline_max);
  }
  BootPlan plan;
  CELLA_TRY_ASSIGN(kernel_address, place_kernel(kernel, config.memory_map));
  plan.kernel_address = kernel_address;
  uint64_t entry = 0;
  if (kernel.kind == KernelImage::Kind::kBzImage) {
    plan.segments.push_back({kernel_address, kernel.protected_mode_code, kernel.init_size});
    entry = kernel_address + 0x200;
  } else {
    for (const LoadSegment& s : kernel.elf_segments) {
      if (!in_ram(config.memory_map, s.physical, s.memory_size)) {
        return make_error("ELF kernel segment at {:#x}+{:#x} is not in RAM", s.physical,
                          s.memory_size);
      }
      plan.segments.push_back(s);
    }
    entry = kernel.elf_entry;
  }
  if (!config.initrd.empty()) {
    CELLA_TRY_ASSIGN(initrd_address,
                     place_initrd(kernel, config.memory_map, kernel_address, config.initrd.size()));
    plan.initrd_address = initrd_address;
    plan.segments.push_back(
        {initrd_address, std::vector<uint8_t>(config.initrd.begin(), config.initrd.end()), 0});
  }
  std::vector<uint8_t> cmdline(config.cmdline.begin(), config.cmdline.end());
  cmdline.push_back(0);
  plan.segments.push_back({layout::kCmdline, std::move(cmdline), 0});

  ZeroPageInputs inputs{kernel_address, plan.initrd_address, config.initrd.size(), layout::kCmdline,
                        config.rsdp_address};
  plan.segments.push_back(
      {layout::kZeroPage, build_zero_page(kernel, config.memory_map, inputs), 0});
  add_identity_page_tables(plan);
  add_gdt(plan);
  plan.cpu = entry_state(entry);
  return plan;
}

}  // namespace cella::machine
