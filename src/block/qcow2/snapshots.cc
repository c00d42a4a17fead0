#include "block/qcow2/snapshots.h"

#include <fmt/format.h>

#include <ctime>

#include "base/bits.h"
#include "block/qcow2/qcow2_format.h"

namespace cella::block::qcow2 {

Result<SnapshotTable> read_snapshot_table(const Storage& storage, uint64_t offset, uint32_t count,
                                          uint64_t /*cluster_size*/) {
  SnapshotTable table;
  if (count == 0) return table;
  CELLA_TRY_ASSIGN(file_size, storage.file().size());
  uint64_t at = offset;
  for (uint32_t i = 0; i < count; ++i) {
    // "Snapshot table entry": 40 fixed bytes, extra data, ID, name, padding to 8.
    uint8_t fixed[kSnapshotFixedSize];
    if (at + sizeof(fixed) > file_size) {
      return make_error("snapshot table entry {} at {:#x} extends beyond the end of the file", i,
                        at);
    }
    CELLA_TRY(storage.read(at, fixed));
    Snapshot s;
    s.l1_table_offset = load_be<uint64_t>(&fixed[0]);
    s.l1_size = load_be<uint32_t>(&fixed[8]);
    const uint16_t id_size = load_be<uint16_t>(&fixed[12]);
    const uint16_t name_size = load_be<uint16_t>(&fixed[14]);
    s.date_seconds = load_be<uint32_t>(&fixed[16]);
    s.date_nanoseconds = load_be<uint32_t>(&fixed[20]);
    s.vm_clock_nanoseconds = load_be<uint64_t>(&fixed[24]);
    s.vm_state_size = load_be<uint32_t>(&fixed[32]);
    const uint32_t extra_size = load_be<uint32_t>(&fixed[36]);
    if (extra_size > kMaxSnapshotExtraData) {
      return make_error("snapshot table entry {} has {} bytes of extra data (limit {})", i,
                        extra_size, kMaxSnapshotExtraData);
    }
    const uint64_t variable = uint64_t{extra_size} + id_size + name_size;
    const uint64_t entry_size = align_up(sizeof(fixed) + variable, 8);
    // The padding of the last entry may lie past the end of the file.
    if (at - offset + entry_size > kMaxSnapshotTableBytes ||
        at + sizeof(fixed) + variable > file_size) {
      return make_error(
          "snapshot table entry {} at {:#x} extends beyond the end of the file or the "
          "{} MiB table limit",
          i, at, kMaxSnapshotTableBytes >> 20);
    }
    std::vector<uint8_t> rest(variable);
    CELLA_TRY(storage.read(at + sizeof(fixed), rest));
    // Extra data: bytes 40-47 VM state size, 48-55 disk size, 56-63 icount.
    if (extra_size >= 8) s.vm_state_size = load_be<uint64_t>(&rest[0]);
    if (extra_size >= 16) {
      s.disk_size = load_be<uint64_t>(&rest[8]);
      s.has_disk_size = true;
    }
    if (extra_size >= 24) s.icount = static_cast<int64_t>(load_be<uint64_t>(&rest[16]));
    const auto* strings = reinterpret_cast<const char*>(rest.data()) + extra_size;
    s.id.assign(strings, id_size);
    s.name.assign(strings + id_size, name_size);
    table.snapshots.push_back(std::move(s));
    table.bytes = at + sizeof(fixed) + variable - offset;  // the last entry's padding excluded
    at += entry_size;
  }
  return table;
}

namespace {

std::string human_size(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 6) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.3g} {}", value, kUnits[unit]);
}

}  // namespace

std::string format_snapshot(const Snapshot& s) {
  const time_t seconds = static_cast<time_t>(s.date_seconds);
  struct tm tm {};
  localtime_r(&seconds, &tm);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
  const uint64_t clock_ms = s.vm_clock_nanoseconds / 1000000;
  const std::string clock =
      fmt::format("{:04}:{:02}:{:02}.{:03}", clock_ms / 3600000, clock_ms / 60000 % 60,
                  clock_ms / 1000 % 60, clock_ms % 1000);
  const std::string icount = s.icount < 0 ? "" : fmt::format(", icount {}", s.icount);
  return fmt::format("id {}, tag {}, vm size {}, date {}, vm clock {}{}", s.id, s.name,
                     human_size(s.vm_state_size), date, clock, icount);
}

}  // namespace cella::block::qcow2
