// AddressSpace: the memory system calls on a real host reservation, and the translation the
// software CPU sees.
#include "user/address_space.h"

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"

namespace cella::user {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kRw = prot::kRead | prot::kWrite;

struct Space {
  std::unique_ptr<AddressSpace> memory = [] {
    auto created = AddressSpace::create(uint64_t{1} << 36, uint64_t{1} << 32);
    EXPECT_TRUE(created);
    return std::move(*created);
  }();
  soft::CodeCache code;
  x86::CpuidPolicy cpuid = soft::soft_cpuid_policy();
  soft::SoftCpu cpu{*memory, code, cpuid};
  Space() { memory->attach(&cpu.tlb, &code); }

  int64_t anonymous(uint64_t address, uint64_t length, uint32_t protection, uint32_t flags = 0) {
    return memory->map({.address = address,
                        .length = length,
                        .protection = protection,
                        .flags = MAP_PRIVATE | MAP_ANONYMOUS | flags,
                        .fd = -1,
                        .offset = 0,
                        .name = {}});
  }
  // The #PF error code of an access, or -1 when it succeeds.
  int64_t fault(uint64_t address, soft::Access access) {
    soft::PageTranslation page;
    if (memory->translate(cpu, address, access, page)) return -1;
    EXPECT_EQ(cpu.fault.vector, x86::Vector::kPageFault);
    EXPECT_EQ(cpu.fault.address, address);
    return cpu.fault.error_code;
  }
};

TEST(AddressSpace, MapsAtAFreeHintElseTopDownBelowTheMmapTop) {
  Space s;
  s.memory->set_mmap_top(0x40000000);
  EXPECT_EQ(s.anonymous(0x10000000, kPage, kRw), 0x10000000);
  EXPECT_EQ(s.anonymous(0x10000000, kPage, kRw), 0x40000000 - kPage);  // hint taken
  EXPECT_EQ(s.anonymous(0, 3 * kPage, kRw), 0x40000000 - 4 * kPage);
}

TEST(AddressSpace, FixedMappingsReplaceAndNoReplaceRefuses) {
  Space s;
  ASSERT_EQ(s.anonymous(0x200000, 4 * kPage, kRw), 0x200000);
  std::memset(s.memory->host(0x200000), 0xaa, 4 * kPage);
  ASSERT_EQ(s.anonymous(0x201000, kPage, prot::kRead, MAP_FIXED), 0x201000);
  EXPECT_EQ(s.memory->host(0x200000)[0], 0xaa);
  EXPECT_EQ(s.memory->host(0x201000)[0], 0);  // a fresh zero page
  EXPECT_EQ(s.memory->areas().count(), 3u);
  EXPECT_EQ(s.anonymous(0x203000, kPage, kRw, MAP_FIXED_NOREPLACE), -EEXIST);
  EXPECT_EQ(s.anonymous(0x204000, kPage, kRw, MAP_FIXED_NOREPLACE), 0x204000);
  EXPECT_EQ(s.anonymous(0x200100, kPage, kRw, MAP_FIXED), -EINVAL);
  EXPECT_EQ(s.anonymous(0x1000, kPage, kRw, MAP_FIXED), -EPERM);  // below mmap_min_addr
  EXPECT_EQ(s.anonymous(0x200000, 0, kRw), -EINVAL);
  EXPECT_EQ(s.anonymous(s.memory->size(), kPage, kRw, MAP_FIXED), -ENOMEM);
}

TEST(AddressSpace, TranslationFollowsProtection) {
  Space s;
  ASSERT_EQ(s.anonymous(0x300000, 3 * kPage, kRw), 0x300000);
  ASSERT_EQ(s.memory->protect(0x301000, kPage, prot::kRead), 0);
  ASSERT_EQ(s.memory->protect(0x302000, kPage, prot::kRead | prot::kExec), 0);
  using x86::pf_error::kInstructionFetch, x86::pf_error::kPresent, x86::pf_error::kUser,
      x86::pf_error::kWrite;
  EXPECT_EQ(s.fault(0x300000, soft::Access::kWrite), -1);
  EXPECT_EQ(s.fault(0x300008, soft::Access::kFetch), kPresent | kUser | kInstructionFetch);
  EXPECT_EQ(s.fault(0x301000, soft::Access::kWrite), kPresent | kUser | kWrite);
  EXPECT_EQ(s.fault(0x301000, soft::Access::kRead), -1);
  EXPECT_EQ(s.fault(0x302000, soft::Access::kFetch), -1);
  EXPECT_EQ(s.fault(0x303000, soft::Access::kRead), kUser);  // unmapped: not present
  ASSERT_EQ(s.memory->protect(0x300000, kPage, 0), 0);
  EXPECT_EQ(s.fault(0x300000, soft::Access::kRead), kUser);
  // Write-only pages are readable, as x86 paging makes them.
  ASSERT_EQ(s.memory->protect(0x300000, kPage, prot::kWrite), 0);
  EXPECT_EQ(s.fault(0x300000, soft::Access::kRead), -1);
  // A non-canonical address is #GP(0).
  soft::PageTranslation page;
  EXPECT_FALSE(s.memory->translate(s.cpu, 0x0000800000000000, soft::Access::kRead, page));
  EXPECT_EQ(s.cpu.fault.vector, x86::Vector::kGeneralProtection);
  // mprotect over a hole fails and changes nothing.
  EXPECT_EQ(s.memory->protect(0x302000, 2 * kPage, kRw), -ENOMEM);
  EXPECT_EQ(s.memory->areas().find(0x302000)->protection, prot::kRead | prot::kExec);
}

TEST(AddressSpace, UnmapRemovesAccessAndSplits) {
  Space s;
  ASSERT_EQ(s.anonymous(0x400000, 3 * kPage, kRw), 0x400000);
  EXPECT_EQ(s.memory->unmap(0x401000, kPage), 0);
  EXPECT_EQ(s.memory->accessible(0x400000, 3 * kPage, GuestAccess::kRead), kPage);
  EXPECT_EQ(s.memory->areas().count(), 2u);
  EXPECT_EQ(s.memory->unmap(0x400001, kPage), -EINVAL);
  EXPECT_EQ(s.memory->unmap(0x500000, kPage), 0);  // nothing there: fine
}

TEST(AddressSpace, RemapGrowsInPlaceOrMovesKeepingContents) {
  Space s;
  ASSERT_EQ(s.anonymous(0x600000, kPage, kRw), 0x600000);
  std::memcpy(s.memory->host(0x600000), "grow", 4);
  EXPECT_EQ(s.memory->remap(0x600000, kPage, 2 * kPage, 0, 0), 0x600000);
  EXPECT_EQ(std::memcmp(s.memory->host(0x600000), "grow", 4), 0);
  EXPECT_TRUE(s.memory->areas().covered(0x600000, 0x602000));
  // Blocked: without MREMAP_MAYMOVE it fails, with it the pages move.
  ASSERT_EQ(s.anonymous(0x602000, kPage, prot::kRead), 0x602000);
  EXPECT_EQ(s.memory->remap(0x600000, 2 * kPage, 4 * kPage, 0, 0), -ENOMEM);
  const int64_t moved = s.memory->remap(0x600000, 2 * kPage, 4 * kPage, MREMAP_MAYMOVE, 0);
  ASSERT_GT(moved, 0);
  EXPECT_EQ(std::memcmp(s.memory->host(moved), "grow", 4), 0);
  EXPECT_EQ(s.memory->areas().find(0x600000), nullptr);
  EXPECT_TRUE(s.memory->areas().covered(moved, moved + 4 * kPage));
  // Shrinking unmaps the tail.
  EXPECT_EQ(s.memory->remap(moved, 4 * kPage, kPage, 0, 0), moved);
  EXPECT_FALSE(s.memory->areas().overlaps(moved + kPage, moved + 4 * kPage));
  // MREMAP_FIXED to a given address.
  EXPECT_EQ(s.memory->remap(moved, kPage, kPage, MREMAP_MAYMOVE | MREMAP_FIXED, 0x700000),
            0x700000);
  EXPECT_EQ(std::memcmp(s.memory->host(0x700000), "grow", 4), 0);
  EXPECT_EQ(s.memory->remap(0x800000, kPage, 2 * kPage, MREMAP_MAYMOVE, 0), -EFAULT);
}

TEST(AddressSpace, MapsFilesPrivately) {
  Space s;
  char path[] = "/tmp/cella-address-space-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  std::vector<char> content(2 * kPage, 'x');
  std::memcpy(content.data() + kPage, "second page", 11);
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  const int64_t at = s.memory->map({.address = 0,
                                    .length = kPage,
                                    .protection = kRw,
                                    .flags = MAP_PRIVATE,
                                    .fd = fd,
                                    .offset = kPage,
                                    .name = {}});
  ASSERT_GT(at, 0);
  EXPECT_EQ(std::memcmp(s.memory->host(at), "second page", 11), 0);
  s.memory->host(at)[0] = 'S';  // private: the file keeps its bytes
  char check = 0;
  ASSERT_EQ(pread(fd, &check, 1, kPage), 1);
  EXPECT_EQ(check, 's');
  const Vma* vma = s.memory->areas().find(at);
  ASSERT_NE(vma, nullptr);
  EXPECT_FALSE(vma->anonymous);
  EXPECT_EQ(vma->offset, kPage);
  EXPECT_EQ(s.memory->map({.address = 0,
                           .length = kPage,
                           .protection = kRw,
                           .flags = MAP_PRIVATE,
                           .fd = fd,
                           .offset = 100,
                           .name = {}}),
            -EINVAL);
  close(fd);
}

TEST(AddressSpace, GuestBuffersAreCheckedAndHostWritesInvalidateCode) {
  Space s;
  ASSERT_EQ(s.anonymous(0x900000, 2 * kPage, kRw), 0x900000);
  ASSERT_EQ(s.memory->protect(0x901000, kPage, prot::kRead), 0);
  EXPECT_EQ(s.memory->accessible(0x900f00, 0x200, GuestAccess::kWrite), 0x100u);
  EXPECT_EQ(s.memory->accessible(0x900f00, 0x200, GuestAccess::kRead), 0x200u);
  EXPECT_EQ(s.memory->host_range(0x900f00, 0x200, GuestAccess::kWrite), nullptr);
  EXPECT_NE(s.memory->host_range(0x900f00, 0x100, GuestAccess::kWrite), nullptr);
  EXPECT_EQ(s.memory->host_range(s.memory->size() - 1, 2, GuestAccess::kRead), nullptr);
  EXPECT_EQ(s.memory->host_range(~uint64_t{0} - 1, 4, GuestAccess::kRead), nullptr);

  // Decoded code on a page goes when the host writes there for the guest.
  auto block = std::make_unique<soft::Block>();
  block->physical = 0x900010;
  s.code.insert(std::move(block));
  ASSERT_TRUE(s.code.has_code(0x900000));
  ASSERT_NE(s.memory->host_range(0x900800, 8, GuestAccess::kWrite), nullptr);
  EXPECT_FALSE(s.code.has_code(0x900000));
}

TEST(AddressSpace, ReadsGuestStrings) {
  Space s;
  ASSERT_EQ(s.anonymous(0xa00000, kPage, kRw), 0xa00000);
  std::memcpy(s.memory->host(0xa00000 + kPage - 3), "abc", 3);  // runs into unmapped memory
  std::string out;
  EXPECT_EQ(s.memory->read_string(0xa00000 + kPage - 3, out), -EFAULT);
  std::memcpy(s.memory->host(0xa00000), "hello", 6);
  EXPECT_EQ(s.memory->read_string(0xa00000, out), 0);
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(s.memory->read_string(0xa00000, out, 3), -ENAMETOOLONG);
  EXPECT_EQ(s.memory->read_string(0, out), -EFAULT);
}

}  // namespace
}  // namespace cella::user
