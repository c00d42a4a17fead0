// A small ACPI Machine Language encoder (ACPI 6.5 chapter 20, "ACPI Machine Language (AML)
// Specification"), enough for the DSDT Cella generates: names, integers, strings, packages,
// scopes, devices, EISA IDs and resource templates (ACPI 6.5 6.4, "Resource Data Types").
// Each function returns the encoded bytes of one term, so terms compose by value.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace cella::machine::aml {

using Bytes = std::vector<uint8_t>;

// ACPI 6.5 20.2.2 NameString: "\_SB", "PCI0", "_S5"; segments of up to 4 characters are
// padded with '_'. A leading '\' makes the path absolute; '.' separates segments.
Bytes name_string(std::string_view path);
// ACPI 6.5 20.2.3: the shortest of ZeroOp, OneOp, BytePrefix, WordPrefix, DWordPrefix, QWordPrefix.
Bytes integer(uint64_t value);
Bytes string(std::string_view text);  // StringPrefix ... NullChar
// ACPI 6.5 19.6.35 EISAID("PNP0A08"): the compressed 32-bit EISA ID as an integer.
Bytes eisa_id(std::string_view id);
Bytes name(std::string_view path, const Bytes& value);                 // DefName
Bytes package(const std::vector<Bytes>& elements);                     // DefPackage
Bytes scope(std::string_view path, const std::vector<Bytes>& terms);   // DefScope
Bytes device(std::string_view path, const std::vector<Bytes>& terms);  // DefDevice (ExtOp)
Bytes buffer(const Bytes& data);                                       // DefBuffer
// A method that returns a constant: Method(NAME, 0) { Return(value) }.
Bytes method_returning(std::string_view path, const Bytes& value);

// ACPI 6.5 20.2.4 PkgLength for a body of `body_size` bytes (the encoding counts itself).
Bytes package_length(size_t body_size);

// Resource templates: a buffer of resource descriptors closed by an End Tag whose checksum
// makes the descriptors sum to zero (ACPI 6.5 6.4.2.9).
namespace resource {
Bytes io(uint16_t base, uint8_t length);               // 6.4.2.5 I/O port, 16-bit decode
Bytes irq(uint16_t mask);                              // 6.4.2.1 IRQ (edge, active high)
Bytes word_bus_number(uint16_t first, uint16_t last);  // 6.4.3.5.3 Word Address Space
Bytes word_io(uint16_t first, uint16_t last);          // 6.4.3.5.3 Word Address Space
// Ranges a bridge decodes for its children are produced; a device's own are consumed.
Bytes dword_memory(uint32_t first, uint32_t last, bool consumer = false);  // 6.4.3.5.2
Bytes qword_memory(uint64_t first, uint64_t last);         // 6.4.3.5.1 QWord Address Space
Bytes template_of(const std::vector<Bytes>& descriptors);  // ResourceTemplate(){...}
}  // namespace resource

}  // namespace cella::machine::aml
