// The Linux boot protocol: kernel parsing (bzImage and vmlinux ELF), placement, the zero page,
// the identity page tables and the entry state, on hand-built kernels whose every field the
// test controls.
#include "machine/boot/linux_boot.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "base/bits.h"
#include "machine/boot/zero_page.h"
#include "tests/unit/machine/bzimage_builder.h"

namespace cella::machine {
namespace {

// 640 KiB - 1 KiB of low RAM, the BIOS area reserved, RAM from 1 MiB to `top`.
std::vector<E820Entry> pc_memory_map(uint64_t top) {
  return {{0, 0x9fc00, E820Type::kRam},
          {0x9fc00, 0x400, E820Type::kReserved},
          {0xe0000, 0x20000, E820Type::kReserved},
          {0x100000, top - 0x100000, E820Type::kRam}};
}

// Guest-physical memory assembled from a plan, for checking what the kernel would find.
std::map<uint64_t, uint8_t> memory_of(const BootPlan& plan) {
  std::map<uint64_t, uint8_t> memory;
  for (const LoadSegment& s : plan.segments) {
    for (size_t i = 0; i < s.bytes.size(); ++i) memory[s.physical + i] = s.bytes[i];
  }
  return memory;
}
uint64_t read64(const std::map<uint64_t, uint8_t>& m, uint64_t address) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{m.at(address + i)} << (8 * i);
  return value;
}
uint32_t read32(const std::map<uint64_t, uint8_t>& m, uint64_t address) {
  return static_cast<uint32_t>(read64(m, address));
}

TEST(KernelImage, ParsesABzImageHeader) {
  const auto file = make_bzimage({});
  auto image = parse_kernel(file);
  ASSERT_TRUE(image.ok()) << image.error().message();
  EXPECT_EQ(image->kind, KernelImage::Kind::kBzImage);
  EXPECT_EQ(image->protocol_version, 0x020f);
  EXPECT_EQ(image->protected_mode_code.size(), 0x3000u);
  EXPECT_EQ(image->protected_mode_code[1], 7);
  EXPECT_EQ(image->setup_header.size(), 0x26cu - 0x1f1u);
  EXPECT_TRUE(image->relocatable);
  EXPECT_EQ(image->preferred_address, 0x1000000u);
  EXPECT_EQ(image->init_size, 0x400000u);
  EXPECT_EQ(image->cmdline_max, 2047u);
  EXPECT_TRUE(image->initrd_above_4g);
}

TEST(KernelImage, SetupSectsZeroMeansFour) {
  BzImageFields f;
  f.setup_sects = 4;
  auto file = make_bzimage(f);
  file[0x1f1] = 0;
  auto image = parse_kernel(file);
  ASSERT_TRUE(image.ok()) << image.error().message();
  EXPECT_EQ(image->protected_mode_code.size(), 0x3000u);
}

TEST(KernelImage, RefusesWhatCannotBoot64Bit) {
  auto refuse = [](std::vector<uint8_t> file, const char* why) {
    auto image = parse_kernel(file);
    ASSERT_FALSE(image.ok()) << why;
    EXPECT_NE(image.error().message().find(why), std::string::npos) << image.error().message();
  };
  refuse(std::vector<uint8_t>(4096, 0), "not a Linux kernel");
  BzImageFields old;
  old.version = 0x020b;
  refuse(make_bzimage(old), "needs 2.12");
  BzImageFields no64;
  no64.xloadflags = 0;
  refuse(make_bzimage(no64), "no 64-bit entry");
  BzImageFields zimage;
  zimage.loadflags = 0;
  refuse(make_bzimage(zimage), "zImage");
  BzImageFields align;
  align.alignment = 0x300000;
  refuse(make_bzimage(align), "power of two");
  BzImageFields small;
  small.init_size = 0x1000;
  refuse(make_bzimage(small), "init_size");
  BzImageFields low;
  low.pref_address = 0x1000;
  refuse(make_bzimage(low), "pref_address");
  BzImageFields truncated;
  truncated.setup_sects = 60;
  auto file = make_bzimage(truncated);
  file.resize(0x300);
  refuse(file, "truncated");
}

TEST(LinuxBoot, PlacesKernelInitrdCommandLineAndZeroPage) {
  auto image = parse_kernel(make_bzimage({}));
  ASSERT_TRUE(image.ok());
  const std::vector<uint8_t> initrd(10000, 0x5a);
  BootConfig config{pc_memory_map(256 << 20), "console=ttyS0 panic=-1", initrd, 0xe0000};
  auto plan = plan_linux_boot(*image, config);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->kernel_address, 0x1000000u);
  // The initrd goes as high as possible, page-aligned, inside RAM.
  EXPECT_EQ(plan->initrd_address, ((256u << 20) - 10000) & ~0xfffu);
  const auto memory = memory_of(*plan);
  EXPECT_EQ(memory.at(0x1000000 + 1), 7);  // the protected-mode code at the load address
  EXPECT_EQ(memory.at(plan->initrd_address), 0x5a);
  EXPECT_EQ(memory.at(boot_layout::kCmdline), 'c');
  EXPECT_EQ(memory.at(boot_layout::kCmdline + config.cmdline.size()), 0);  // NUL-terminated

  const uint64_t zp = boot_layout::kZeroPage;
  EXPECT_EQ(memory.at(zp + 0x202), 'H');  // the setup header, copied
  EXPECT_EQ(memory.at(zp + zero_page::kTypeOfLoader), 0xff);
  EXPECT_EQ(memory.at(zp + zero_page::kLoadflags), 0x81);  // LOADED_HIGH | CAN_USE_HEAP
  EXPECT_EQ(read32(memory, zp + zero_page::kRamdiskImage), plan->initrd_address);
  EXPECT_EQ(read32(memory, zp + zero_page::kRamdiskSize), 10000u);
  EXPECT_EQ(read32(memory, zp + zero_page::kCmdLinePtr), boot_layout::kCmdline);
  EXPECT_EQ(read32(memory, zp + zero_page::kCode32Start), 0x1000000u);
  EXPECT_EQ(read64(memory, zp + zero_page::kAcpiRsdpAddr), 0xe0000u);
  ASSERT_EQ(memory.at(zp + zero_page::kE820Entries), 4);
  const uint64_t last = zp + zero_page::kE820Table + 3 * zero_page::kE820EntrySize;
  EXPECT_EQ(read64(memory, last), 0x100000u);
  EXPECT_EQ(read64(memory, last + 8), (256u << 20) - 0x100000u);
  EXPECT_EQ(read32(memory, last + 16), 1u);
}

TEST(LinuxBoot, EntryStateFollowsThe64BitProtocol) {
  auto image = parse_kernel(make_bzimage({}));
  ASSERT_TRUE(image.ok());
  auto plan = plan_linux_boot(*image, {pc_memory_map(64 << 20), "", {}, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  const x86::ArchState& s = plan->cpu;
  EXPECT_EQ(s.rip, 0x1000200u);  // load address + 0x200
  EXPECT_EQ(s.reg(x86::Gpr::kRsi), boot_layout::kZeroPage);
  EXPECT_EQ(s.rflags & 0x200, 0u);  // interrupts disabled
  EXPECT_EQ(s.seg(x86::Segment::kCs).selector, 0x10);
  EXPECT_EQ(s.seg(x86::Segment::kDs).selector, 0x18);
  EXPECT_EQ(s.seg(x86::Segment::kSs).selector, 0x18);
  EXPECT_EQ(s.efer & 0x500, 0x500u);           // LME | LMA
  EXPECT_EQ(s.cr0 & 0x80000001, 0x80000001u);  // PG | PE
  EXPECT_EQ(s.cr4 & 0x20, 0x20u);              // PAE
  EXPECT_EQ(plan->initrd_address, 0u);

  // The GDT holds flat __BOOT_CS (64-bit code) and __BOOT_DS descriptors.
  const auto memory = memory_of(*plan);
  EXPECT_EQ(s.gdtr.base, boot_layout::kGdt);
  EXPECT_EQ(read64(memory, boot_layout::kGdt + 0x10), 0x00af9b000000ffffu);
  EXPECT_EQ(read64(memory, boot_layout::kGdt + 0x18), 0x00cf93000000ffffu);

  // Walk the page tables: every address below 4 GiB maps to itself.
  for (uint64_t linear : {0ull, 0x7000ull, 0x1000200ull, 0x3fe00000ull, 0xfee00000ull}) {
    const uint64_t pml4e = read64(memory, (s.cr3 & ~0xfffull) + ((linear >> 39) & 511) * 8);
    ASSERT_EQ(pml4e & 1, 1u);
    const uint64_t pdpte = read64(memory, (pml4e & ~0xfffull) + ((linear >> 30) & 511) * 8);
    ASSERT_EQ(pdpte & 1, 1u);
    const uint64_t pde = read64(memory, (pdpte & ~0xfffull) + ((linear >> 21) & 511) * 8);
    ASSERT_EQ(pde & 0x81, 0x81u);  // present, 2 MiB page
    EXPECT_EQ((pde & ~0x1fffffull & ((1ull << 52) - 1)) | (linear & 0x1fffff), linear);
  }
}

TEST(LinuxBoot, RelocatesWhenThePreferredAddressIsNotRam) {
  BzImageFields f;
  f.pref_address = 0x10000000;  // 256 MiB, beyond a 64 MiB guest
  auto image = parse_kernel(make_bzimage(f));
  ASSERT_TRUE(image.ok());
  auto plan = plan_linux_boot(*image, {pc_memory_map(64 << 20), "", {}, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->kernel_address, 0x200000u);  // the first 2 MiB-aligned RAM above 1 MiB
  f.relocatable = 0;
  auto fixed = parse_kernel(make_bzimage(f));
  ASSERT_TRUE(fixed.ok());
  auto refused = plan_linux_boot(*fixed, {pc_memory_map(64 << 20), "", {}, 0});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("not relocatable"), std::string::npos);
}

TEST(LinuxBoot, InitrdStaysBelowItsLimitAndClearOfTheKernel) {
  BzImageFields f;
  f.initrd_max = 0x1200000 - 1;  // just above the kernel's region (16 MiB + 4 MiB init_size)
  f.xloadflags = 1;
  auto image = parse_kernel(make_bzimage(f));
  ASSERT_TRUE(image.ok());
  const std::vector<uint8_t> initrd(0x100000, 1);
  auto plan = plan_linux_boot(*image, {pc_memory_map(256 << 20), "", initrd, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_LE(plan->initrd_address + initrd.size(), 0x1000000u);  // below the kernel
  EXPECT_GE(plan->initrd_address, 0x100000u);
  const std::vector<uint8_t> huge(300 << 20, 1);
  auto refused = plan_linux_boot(*image, {pc_memory_map(256 << 20), "", huge, 0});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("no RAM for an initrd"), std::string::npos);
}

TEST(LinuxBoot, RefusesLongCommandLinesAndBadMemoryMaps) {
  BzImageFields f;
  f.cmdline_size = 10;
  auto image = parse_kernel(make_bzimage(f));
  ASSERT_TRUE(image.ok());
  auto long_line = plan_linux_boot(*image, {pc_memory_map(64 << 20), "01234567890", {}, 0});
  ASSERT_FALSE(long_line.ok());
  EXPECT_NE(long_line.error().message().find("at most 10"), std::string::npos);
  auto overlapping = pc_memory_map(64 << 20);
  overlapping[1].address = 0x9f000;
  EXPECT_FALSE(plan_linux_boot(*image, {overlapping, "", {}, 0}).ok());
  EXPECT_FALSE(plan_linux_boot(*image, {{}, "", {}, 0}).ok());
  std::vector<E820Entry> no_low_ram{{0x100000, 64 << 20, E820Type::kRam}};
  EXPECT_FALSE(plan_linux_boot(*image, {no_low_ram, "", {}, 0}).ok());
}

TEST(LinuxBoot, BootsAVmlinuxAtItsPhysicalEntry) {
  auto image = parse_kernel(make_elf(0x1000000, 0x1000000, 0x2000));
  ASSERT_TRUE(image.ok()) << image.error().message();
  EXPECT_EQ(image->kind, KernelImage::Kind::kElf);
  auto plan = plan_linux_boot(*image, {pc_memory_map(64 << 20), "x", {}, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->cpu.rip, 0x1000000u);
  const auto memory = memory_of(*plan);
  EXPECT_EQ(memory.at(0x1000000 + 0x1fff), 0xcc);
  EXPECT_EQ(memory.at(boot_layout::kZeroPage + 0x202), 'H');  // a synthesized header
  EXPECT_EQ(memory.at(boot_layout::kZeroPage + 0x1fe), 0x55);

  auto outside = parse_kernel(make_elf(0x1000000, 0x5000000, 0x2000));
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message().find("not in a loaded segment"), std::string::npos);
  auto truncated = make_elf(0x1000000, 0x1000000, 0x2000);
  truncated.resize(truncated.size() - 1);
  EXPECT_FALSE(parse_kernel(truncated).ok());
  auto beyond_ram = parse_kernel(make_elf(0x8000000, 0x8000000, 0x2000));
  ASSERT_TRUE(beyond_ram.ok());
  EXPECT_FALSE(plan_linux_boot(*beyond_ram, {pc_memory_map(64 << 20), "", {}, 0}).ok());
}

}  // namespace
}  // namespace cella::machine
