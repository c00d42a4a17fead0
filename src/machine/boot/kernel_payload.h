// Unpacking a bzImage's compressed kernel on the host, as the kernel's own decompressor
// (arch/x86/boot/compressed) would in the guest: the payload (payload_offset/payload_length,
// boot protocol 2.08+) is the kernel ELF (`vmlinux.bin`, followed by its relocation table),
// compressed with the format its first bytes name. Booting that ELF directly skips billions
// of guest instructions of decompression; what is lost is the decompressor's own work: KASLR
// (the kernel runs at its link address) and its early console messages.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "machine/boot/kernel_image.h"

namespace cella::machine {

// The uncompressed kernel ELF of a bzImage, or nullopt when its payload uses a compression
// Cella does not unpack (lzma, bzip2, lzo, lz4: the guest then decompresses it itself). An
// error means the payload is corrupt, or would unpack to more than kMaximumKernelBytes.
inline constexpr uint64_t kMaximumKernelBytes = 1ull << 30;
Result<std::optional<std::vector<uint8_t>>> unpack_bzimage_payload(const KernelImage& kernel);

// The kernel to boot in place of `bzimage`: its unpacked payload parsed as an ELF, carrying the
// limits only the bzImage's setup header records (an ELF has none): the command line size and
// where an initrd may go. nullopt when the payload is left to the guest (as above).
Result<std::optional<KernelImage>> unpack_bzimage_kernel(const KernelImage& bzimage);

}  // namespace cella::machine
