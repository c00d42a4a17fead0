// CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by VHDX
// ([MS-VHDX] 2.2.2 "Checksum": CRC-32C over the structure with the checksum field zeroed).
#pragma once

#include <cstdint>
#include <span>

namespace cella {

// The standard CRC-32C of data (initial value and final XOR 0xFFFFFFFF): "123456789" gives
// 0xE3069283. `crc` continues a previous result, so crc32c(b, crc32c(a)) == crc32c(a + b).
uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc = 0);

}  // namespace cella
