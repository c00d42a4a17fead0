// ACPI tables: the structure a guest walks (RSDP -> XSDT -> tables, checksums, pointers), the
// AML encoder against known encodings, and the real peer: ACPICA's disassembler (iasl -d)
// must accept every table and read back what Cella meant.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "base/bits.h"
#include "machine/acpi/aml.h"
#include "machine/acpi/tables.h"

namespace cella::machine::acpi {
namespace {

AcpiConfig sample_config() {
  AcpiConfig c;
  c.cpus = 2;
  c.ioapic_id = 2;
  c.overrides = {{0, 2, 0}, {9, 9, 0xd}};  // IRQ0 -> GSI 2; SCI level, active high
  c.pci_routes = {{1, 0, 16}, {1, 1, 17}, {2, 0, 17}};
  c.pci_window64_first = 0x1000000000;
  c.pci_window64_last = 0x1fffffffff;
  return c;
}

uint8_t sum(const uint8_t* data, size_t size) {
  uint8_t s = 0;
  for (size_t i = 0; i < size; ++i) s = static_cast<uint8_t>(s + data[i]);
  return s;
}

// The tables by signature, found the way a guest finds them.
std::map<std::string, std::vector<uint8_t>> walk(const AcpiBlob& blob) {
  auto at = [&](uint64_t address) { return blob.bytes.data() + (address - blob.base); };
  std::map<std::string, std::vector<uint8_t>> tables;
  const uint8_t* rsdp = at(blob.rsdp_address());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(rsdp), 8), "RSD PTR ");
  EXPECT_EQ(sum(rsdp, 20), 0) << "RSDP checksum";
  EXPECT_EQ(sum(rsdp, 36), 0) << "RSDP extended checksum";
  EXPECT_EQ(rsdp[15], 2);
  auto take = [&](uint64_t address) {
    const uint8_t* t = at(address);
    const uint32_t length = load_le<uint32_t>(t + 4);
    EXPECT_LE(address - blob.base + length, blob.bytes.size());
    const std::string signature(reinterpret_cast<const char*>(t), 4);
    if (signature != "FACS") {
      EXPECT_EQ(sum(t, length), 0) << signature << " checksum";
    }
    tables[signature].assign(t, t + length);
    return signature;
  };
  const uint64_t xsdt = load_le<uint64_t>(rsdp + 24);
  EXPECT_EQ(take(xsdt), "XSDT");
  const auto& x = tables["XSDT"];
  for (size_t offset = 36; offset < x.size(); offset += 8) {
    const std::string signature = take(load_le<uint64_t>(&x[offset]));
    if (signature == "FACP") {
      const auto& f = tables["FACP"];
      const uint64_t facs = load_le<uint64_t>(&f[132]);
      EXPECT_EQ(facs % 64, 0u);
      EXPECT_EQ(take(facs), "FACS");
      EXPECT_EQ(take(load_le<uint64_t>(&f[140])), "DSDT");
      EXPECT_EQ(load_le<uint32_t>(&f[40]), load_le<uint64_t>(&f[140]));
    }
  }
  return tables;
}

TEST(Acpi, GuestFindsEveryTableWithValidChecksums) {
  const AcpiBlob blob = build_acpi_tables(sample_config(), 0xe0000);
  const auto tables = walk(blob);
  for (const char* signature : {"XSDT", "FACP", "FACS", "DSDT", "APIC", "MCFG"}) {
    EXPECT_TRUE(tables.count(signature)) << signature;
  }
  const auto& fadt = tables.at("FACP");
  EXPECT_EQ(fadt.size(), 276u);
  EXPECT_EQ(load_le<uint16_t>(&fadt[46]), 9);       // SCI_INT
  EXPECT_EQ(load_le<uint32_t>(&fadt[64]), 0x604u);  // PM1a_CNT_BLK
  EXPECT_EQ(fadt[173], 16);                         // X_PM1a_CNT_BLK register width
}

TEST(Acpi, MadtListsProcessorsIoApicOverridesAndNmi) {
  const auto tables = walk(build_acpi_tables(sample_config(), 0xe0000));
  const auto& m = tables.at("APIC");
  EXPECT_EQ(load_le<uint32_t>(&m[36]), 0xfee00000u);
  std::vector<uint8_t> types;
  for (size_t offset = 44; offset < m.size(); offset += m[offset + 1]) {
    ASSERT_GE(m[offset + 1], 2);
    types.push_back(m[offset]);
    if (m[offset] == 1) {
      EXPECT_EQ(load_le<uint32_t>(&m[offset + 4]), 0xfec00000u);
    }
  }
  EXPECT_EQ(types, (std::vector<uint8_t>{0, 0, 1, 2, 2, 4}));
}

TEST(Aml, EncodesAsTheSpecificationSays) {
  using namespace aml;
  EXPECT_EQ(integer(0), (Bytes{0x00}));
  EXPECT_EQ(integer(1), (Bytes{0x01}));
  EXPECT_EQ(integer(5), (Bytes{0x0a, 5}));
  EXPECT_EQ(integer(0x1234), (Bytes{0x0b, 0x34, 0x12}));
  EXPECT_EQ(integer(0x100000000), (Bytes{0x0e, 0, 0, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(name_string("_S5"), (Bytes{'_', 'S', '5', '_'}));
  EXPECT_EQ(name_string("\\_SB.PCI0"), (Bytes{'\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'}));
  // EISAID("PNP0A03") is 0x030AD041 (ACPI 6.5 19.6.35's example).
  EXPECT_EQ(eisa_id("PNP0A03"), (Bytes{0x0c, 0x41, 0xd0, 0x0a, 0x03}));
  // PkgLength: 1 byte up to 63, then a count in bits 7:6 and the low nibble first.
  EXPECT_EQ(package_length(10), (Bytes{11}));
  EXPECT_EQ(package_length(62), (Bytes{63}));
  EXPECT_EQ(package_length(63), (Bytes{0x41, 0x04}));  // 65 = 0x41: low nibble 1, then 4
  const Bytes big = package_length(3000);              // 3002 fits in 12 bits: 2 bytes
  ASSERT_EQ(big.size(), 2u);
  EXPECT_EQ(((big[0] & 0xf) | (big[1] << 4)), 3002);
  EXPECT_EQ(package_length(5000).size(), 3u);  // 5003 does not
  const Bytes huge = package_length(70000);    // 70003 needs 3 bytes
  ASSERT_EQ(huge.size(), 3u);
  EXPECT_EQ(huge[0] >> 6, 2);
  EXPECT_EQ((huge[0] & 0xf) | (huge[1] << 4) | (huge[2] << 12), 70003);
  // A resource template ends with an End Tag that makes the descriptors sum to zero.
  const Bytes t = resource::template_of({resource::io(0x3f8, 8), resource::irq(1 << 4)});
  const Bytes descriptors(t.end() - 13, t.end());
  EXPECT_EQ(sum(descriptors.data(), descriptors.size()), 0);
  EXPECT_EQ(descriptors[descriptors.size() - 2], 0x79);
}

// Runs `command`, returns its exit status and output.
std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ACPICA's disassembler is the peer: it must read every table without errors and show the
// devices, resources and packages Cella encoded.
TEST(Acpi, AcpicaDisassemblesEveryTable) {
  ASSERT_EQ(run("command -v iasl").first, 0) << "iasl missing: scripts/setup installs acpica-tools";
  const auto tables = walk(build_acpi_tables(sample_config(), 0xe0000));
  const auto dir =
      std::filesystem::temp_directory_path() / ("cella-acpi-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::map<std::string, std::string> disassembly;
  for (const auto& [signature, bytes] : tables) {
    const auto file = dir / (signature + ".dat");
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
    const auto [status, output] = run("cd " + dir.string() + " && iasl -d " + file.string());
    EXPECT_EQ(status, 0) << signature << ":\n" << output;
    EXPECT_EQ(output.find("Error"), std::string::npos) << signature << ":\n" << output;
    disassembly[signature] = slurp(dir / (signature + ".dsl"));
  }
  std::filesystem::remove_all(dir);
  const std::string& dsdt = disassembly["DSDT"];
  EXPECT_NE(dsdt.find("Device (PCI0)"), std::string::npos) << dsdt;
  EXPECT_NE(dsdt.find("EisaId (\"PNP0A08\")"), std::string::npos) << dsdt;
  EXPECT_NE(dsdt.find("Name (\\_S5, Package (0x04)"), std::string::npos) << dsdt;
  EXPECT_NE(dsdt.find("0xC0000000,         // Range Minimum"), std::string::npos)
      << dsdt;  // 32-bit window
  EXPECT_NE(dsdt.find("0x0000001000000000, // Range Minimum"), std::string::npos)
      << dsdt;  // 64-bit window
  EXPECT_NE(dsdt.find("Device (MRES)"), std::string::npos) << dsdt;
  EXPECT_NE(dsdt.find("DWordMemory (ResourceConsumer"), std::string::npos) << dsdt;
  const std::string& madt = disassembly["APIC"];
  EXPECT_NE(madt.find("I/O APIC"), std::string::npos) << madt;
  EXPECT_NE(madt.find("Interrupt Source Override"), std::string::npos) << madt;
  const std::string& fadt = disassembly["FACP"];
  EXPECT_NE(fadt.find("PM1A Control Block Address : 00000604"), std::string::npos) << fadt;
  EXPECT_NE(disassembly["MCFG"].find("00000000B0000000"), std::string::npos) << disassembly["MCFG"];
}

}  // namespace
}  // namespace cella::machine::acpi
