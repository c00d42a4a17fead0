#include "machine/acpi/tables.h"

#include <cassert>
#include <cstring>
#include <string_view>

#include "base/bits.h"
#include "machine/acpi/aml.h"

namespace cella::machine::acpi {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr char kOemId[] = "CELLA ";          // 6 characters
constexpr char kOemTableId[] = "CELLAVM ";   // 8 characters
constexpr uint32_t kCreatorId = 0x414c4c43;  // "CLLA"

uint8_t checksum(const uint8_t* data, size_t size) {
  uint8_t sum = 0;
  for (size_t i = 0; i < size; ++i) sum = static_cast<uint8_t>(sum + data[i]);
  return static_cast<uint8_t>(-sum);
}

void put(Bytes& t, size_t offset, uint64_t value, int size) {
  for (int i = 0; i < size; ++i) t[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

// ACPI 6.5 5.2.6 System Description Table Header (36 bytes); length and checksum are filled in
// by finish().
Bytes header(std::string_view signature, uint8_t revision, size_t body_size) {
  Bytes t(36 + body_size, 0);
  std::memcpy(t.data(), signature.data(), 4);
  t[8] = revision;
  std::memcpy(&t[10], kOemId, 6);
  std::memcpy(&t[16], kOemTableId, 8);
  put(t, 24, 1, 4);           // OEM revision
  put(t, 28, kCreatorId, 4);  // creator ID
  put(t, 32, 1, 4);           // creator revision
  return t;
}

void finish(Bytes& t) {
  put(t, 4, t.size(), 4);
  t[9] = 0;
  t[9] = checksum(t.data(), t.size());
}

// ACPI 6.5 5.2.3.2 Generic Address Structure in system I/O space.
void put_gas_io(Bytes& t, size_t offset, uint16_t port, uint8_t bits) {
  t[offset] = 1;  // system I/O
  t[offset + 1] = bits;
  t[offset + 2] = 0;
  t[offset + 3] = bits == 8 ? 1 : bits == 16 ? 2 : 3;  // access size: byte, word, dword
  put(t, offset + 4, port, 8);
}

// ACPI 6.5 5.2.10: FACS, 64 bytes, 64-byte aligned; no waking vector (no S3).
Bytes facs() {
  Bytes t(64, 0);
  std::memcpy(t.data(), "FACS", 4);
  put(t, 4, 64, 4);
  t[32] = 2;  // version
  return t;
}

// ACPI 6.5 5.2.9 FADT, revision 6 (276 bytes), full (not hardware-reduced) ACPI with the PM1a
// event/control blocks and the PM timer; SMI_CMD 0: always in ACPI mode.
Bytes fadt(const AcpiConfig& c, uint64_t facs_address, uint64_t dsdt_address) {
  Bytes t = header("FACP", 6, 276 - 36);
  put(t, 36, facs_address, 4);  // FIRMWARE_CTRL
  put(t, 40, dsdt_address, 4);  // DSDT
  t[45] = 0;                    // Preferred_PM_Profile: unspecified
  put(t, 46, c.sci_irq, 2);     // SCI_INT
  put(t, 56, c.pm1a_event_port, 4);
  put(t, 64, c.pm1a_control_port, 4);
  put(t, 76, c.pm_timer_port, 4);
  t[88] = 4;            // PM1_EVT_LEN
  t[89] = 2;            // PM1_CNT_LEN
  t[91] = 4;            // PM_TMR_LEN
  put(t, 96, 101, 2);   // P_LVL2_LAT > 100: C2 not supported
  put(t, 98, 1001, 2);  // P_LVL3_LAT > 1000: C3 not supported
  t[108] = c.rtc_century_index;
  // IAPC_BOOT_ARCH (5.2.9.3): LEGACY_DEVICES | 8042 | VGA Not Present | MSI Not Supported? no.
  put(t, 109, 0x1 | 0x2 | 0x4, 2);
  // Flags (Table 5.10): WBINVD | PROC_C1 | PWR_BUTTON (none) | SLP_BUTTON (none) |
  // TMR_VAL_EXT (32-bit PM timer? no: 24-bit) | RESET_REG_SUP no.
  put(t, 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5), 4);
  t[131] = 5;                    // FADT minor version: ACPI 6.5
  put(t, 132, facs_address, 8);  // X_FIRMWARE_CTRL
  put(t, 140, dsdt_address, 8);  // X_DSDT
  put_gas_io(t, 148, c.pm1a_event_port, 32);
  put_gas_io(t, 172, c.pm1a_control_port, 16);
  put_gas_io(t, 208, c.pm_timer_port, 32);
  std::memcpy(&t[268], "CELLA   ", 8);  // hypervisor vendor identity
  finish(t);
  return t;
}

// ACPI 6.5 5.2.12 MADT with Processor Local APIC (5.2.12.2), I/O APIC (5.2.12.3), Interrupt
// Source Override (5.2.12.5) and Local APIC NMI (5.2.12.7, LINT1) entries.
Bytes madt(const AcpiConfig& c) {
  Bytes entries;
  for (int cpu = 0; cpu < c.cpus; ++cpu) {
    entries.insert(entries.end(), {0, 8, static_cast<uint8_t>(cpu), static_cast<uint8_t>(cpu), 1, 0,
                                   0, 0});  // enabled
  }
  Bytes ioapic{1, 12, c.ioapic_id, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  put(ioapic, 4, c.ioapic_address, 4);  // GSI base 0
  entries.insert(entries.end(), ioapic.begin(), ioapic.end());
  for (const InterruptOverride& o : c.overrides) {
    Bytes iso{2, 10, 0, o.source, 0, 0, 0, 0, 0, 0};
    put(iso, 4, o.gsi, 4);
    put(iso, 8, o.flags, 2);
    entries.insert(entries.end(), iso.begin(), iso.end());
  }
  entries.insert(entries.end(), {4, 6, 0xff, 0, 0, 1});  // all processors, LINT1 is NMI
  Bytes t = header("APIC", 5, 8 + entries.size());
  put(t, 36, c.local_apic_address, 4);
  put(t, 40, 1, 4);  // PCAT_COMPAT: dual 8259s present
  std::copy(entries.begin(), entries.end(), t.begin() + 44);
  finish(t);
  return t;
}

// PCI Firmware Specification 3.2 4.1.2: MCFG with one ECAM allocation (segment 0).
Bytes mcfg(const AcpiConfig& c) {
  Bytes t = header("MCFG", 1, 8 + 16);
  put(t, 44, c.ecam_base, 8);
  put(t, 52, 0, 2);  // segment group
  t[54] = 0;         // start bus
  t[55] = c.ecam_last_bus;
  finish(t);
  return t;
}

// The DSDT: the PCI root bridge (PNP0A08, compatible PNP0A03) with its resources and INTx
// routing, and \_S5 for poweroff (ACPI 6.5 7.4.2: package of SLP_TYPa, SLP_TYPb).
Bytes dsdt(const AcpiConfig& c) {
  using namespace aml;
  std::vector<Bytes> windows = {
      resource::word_bus_number(0, c.ecam_last_bus),
      resource::io(0xcf8, 8),
      resource::word_io(0x0000, 0x0cf7),
      resource::word_io(0x0d00, 0xffff),
      resource::dword_memory(c.pci_window32_first, c.pci_window32_last),
  };
  if (c.pci_window64_last > c.pci_window64_first) {
    windows.push_back(resource::qword_memory(c.pci_window64_first, c.pci_window64_last));
  }
  std::vector<Bytes> routes;
  for (const PciRoute& r : c.pci_routes) {
    // _PRT entry: Address (slot << 16 | 0xffff: any function), Pin, Source (0: GSI), Index.
    routes.push_back(package(
        {integer((uint64_t{r.slot} << 16) | 0xffff), integer(r.pin), integer(0), integer(r.gsi)}));
  }
  const Bytes pci0 = device("PCI0", {
                                        name("_HID", eisa_id("PNP0A08")),
                                        name("_CID", eisa_id("PNP0A03")),
                                        name("_SEG", integer(0)),
                                        name("_BBN", integer(0)),
                                        name("_UID", integer(0)),
                                        name("_CRS", resource::template_of(windows)),
                                        name("_PRT", package(routes)),
                                    });
  // The ECAM window and the PM registers are motherboard resources (PNP0C02), which is how
  // Linux accepts the MCFG region as reserved.
  const uint64_t ecam_last = c.ecam_base + ((uint64_t{c.ecam_last_bus} + 1) << 20) - 1;
  const Bytes motherboard_resources = resource::template_of({
      resource::dword_memory(static_cast<uint32_t>(c.ecam_base), static_cast<uint32_t>(ecam_last),
                             /*consumer=*/true),
      resource::io(c.pm1a_event_port, 12),
  });
  const Bytes motherboard = device("MRES", {
                                               name("_HID", eisa_id("PNP0C02")),
                                               name("_UID", integer(1)),
                                               name("_CRS", motherboard_resources),
                                           });
  const Bytes body = [&] {
    Bytes b = scope("\\_SB", {pci0, motherboard});
    const Bytes s5 =
        name("\\_S5",
             package({integer(c.s5_sleep_type), integer(c.s5_sleep_type), integer(0), integer(0)}));
    b.insert(b.end(), s5.begin(), s5.end());
    return b;
  }();
  Bytes t = header("DSDT", 2, body.size());
  std::copy(body.begin(), body.end(), t.begin() + 36);
  finish(t);
  return t;
}

size_t align(size_t value, size_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

}  // namespace

AcpiBlob build_acpi_tables(const AcpiConfig& config, uint64_t base) {
  assert(base % 64 == 0);
  AcpiBlob blob{base, {}};
  Bytes& out = blob.bytes;
  // Layout: RSDP (36 bytes) at 0, FACS at 64, then DSDT, FADT, MADT, MCFG, XSDT, 8-aligned.
  out.resize(64, 0);
  auto place = [&](const Bytes& table, size_t alignment) {
    out.resize(align(out.size(), alignment), 0);
    const uint64_t address = base + out.size();
    out.insert(out.end(), table.begin(), table.end());
    return address;
  };
  const uint64_t facs_address = place(facs(), 64);
  const uint64_t dsdt_address = place(dsdt(config), 8);
  const std::vector<uint64_t> tables = {
      place(fadt(config, facs_address, dsdt_address), 8),
      place(madt(config), 8),
      place(mcfg(config), 8),
  };
  Bytes xsdt = header("XSDT", 1, tables.size() * 8);
  for (size_t i = 0; i < tables.size(); ++i) put(xsdt, 36 + i * 8, tables[i], 8);
  finish(xsdt);
  const uint64_t xsdt_address = place(xsdt, 8);

  // ACPI 6.5 5.2.5.3 RSDP, revision 2: checksum over the first 20 bytes, extended checksum
  // over all 36.
  uint8_t* rsdp = out.data();
  std::memcpy(rsdp, "RSD PTR ", 8);
  std::memcpy(rsdp + 9, kOemId, 6);
  rsdp[15] = 2;
  store_le<uint32_t>(rsdp + 20, 36);
  store_le<uint64_t>(rsdp + 24, xsdt_address);
  rsdp[8] = checksum(rsdp, 20);
  rsdp[32] = checksum(rsdp, 36);
  return blob;
}

}  // namespace cella::machine::acpi
