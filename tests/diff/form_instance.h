// Random instances of one instruction form: bytes that decode back to the form, plus the
// register values its operands need (memory operands point into the data area, branch
// targets into the NOP sled, string pointers into the data area).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace cella::diff {

struct RegisterRequirement {
  int reg;  // 0..15
  uint64_t value;
};

// A memory value the instance needs (e.g. the return address RET pops).
struct MemoryRequirement {
  uint64_t address;
  uint64_t value;
  int size;
};

struct FormInstance {
  std::vector<uint8_t> bytes;
  std::vector<RegisterRequirement> registers;
  std::vector<MemoryRequirement> memory;
  bool uses_memory = false;
};

// Returns nothing if no valid instance could be made (the caller counts the form as untested).
std::optional<FormInstance> make_instance(uint16_t form, std::mt19937_64& rng);

std::string hex(const std::vector<uint8_t>& bytes);

}  // namespace cella::diff
