#include "block/vdi/vdi_image.h"

#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "base/log.h"
#include "block/extents.h"
#include "block/ops/zero.h"

namespace cella::block::vdi {

namespace {

// The image types as `info` names them.
constexpr std::pair<ImageType, std::string_view> kTypeNames[] = {
    {ImageType::kDynamic, "dynamic"},
    {ImageType::kStatic, "static"},
    {ImageType::kUndo, "undo"},
    {ImageType::kDiff, "differencing"},
};

std::string_view type_name(ImageType type) {
  for (const auto& [entry, name] : kTypeNames) {
    if (entry == type) return name;
  }
  return "?";
}

}  // namespace

VdiImage::~VdiImage() {
  if (read_only_ || (!header_dirty_ && !map_.dirty())) return;
  if (auto result = flush(); !result) {
    log::error("{}: writing back the block map failed: {}", path(), result.error().message());
  }
}

Result<VdiImage::MapScan> VdiImage::scan_map() const {
  // Every allocated entry names a counted data slot inside the file, used by no other block.
  CELLA_TRY_ASSIGN(file_size, file_.size());
  MapScan scan;
  scan.owner.assign(header_.blocks_allocated, kBlockFree);
  for (uint32_t block = 0; block < map_.size(); ++block) {
    const uint32_t entry = map_.get(block);
    if (!is_allocated(entry)) continue;
    if (entry >= header_.blocks_allocated) {
      scan.problems.push_back(fmt::format("block {} maps to data block {} of only {} allocated",
                                          block, entry, header_.blocks_allocated));
    } else if (header_.slot_offset(entry) + header_.block_size > file_size) {
      scan.problems.push_back(
          fmt::format("block {} maps to data block {}, beyond the end of the file", block, entry));
    } else if (scan.owner[entry] != kBlockFree) {
      scan.problems.push_back(
          fmt::format("blocks {} and {} share data block {}", scan.owner[entry], block, entry));
    } else {
      scan.owner[entry] = block;
      ++scan.used;
    }
  }
  return scan;
}

Result<void> VdiImage::validate_map() {
  CELLA_TRY_ASSIGN(scan, scan_map());
  if (!scan.problems.empty()) damage_ = scan.problems.front();
  return ok();
}

Result<void> VdiImage::check_range(uint64_t offset, uint64_t length, std::string_view what) const {
  if (offset > size() || length > size() - offset) {
    return make_error("{}: {} of {} bytes at offset {} is beyond the end of the disk ({} bytes)",
                      path(), what, length, offset, size());
  }
  return ok();
}

Result<VdiImage::Run> VdiImage::lookup(uint64_t offset, uint64_t max_length) const {
  const uint64_t block_size = header_.block_size;
  uint32_t block = static_cast<uint32_t>(offset / block_size);
  const auto kind_of = [&](uint32_t entry) {
    if (is_allocated(entry)) return ExtentKind::kData;
    // "Block map": a free block falls through to the parent (zeros without one); a zero block
    // reads as zeros whatever lies below.
    return entry == kBlockFree ? ExtentKind::kUnallocated : ExtentKind::kZero;
  };
  const uint32_t entry = map_.get(block);
  Run run{kind_of(entry), std::min(block_size - offset % block_size, max_length), 0};
  if (run.kind == ExtentKind::kData) {
    if (entry >= header_.blocks_allocated) {
      return make_error("{}: block {} maps to data block {} of only {} allocated", path(), block,
                        entry, header_.blocks_allocated);
    }
    run.host_offset = header_.slot_offset(entry) + offset % block_size;
  }
  uint32_t expected = entry;
  while (run.length < max_length) {
    const uint32_t next = map_.get(++block);
    if (kind_of(next) != run.kind) break;
    if (run.kind == ExtentKind::kData &&
        (header_.block_extra != 0 || next != ++expected || next >= header_.blocks_allocated)) {
      break;
    }
    run.length += std::min(block_size, max_length - run.length);
  }
  return run;
}

Result<void> VdiImage::read_background(uint64_t offset, std::span<uint8_t> out) {
  return ops::read_zero_filled(backing_.get(), offset, out);
}

Result<void> VdiImage::read(uint64_t offset, std::span<uint8_t> out) {
  CELLA_TRY(check_range(offset, out.size(), "read"));
  while (!out.empty()) {
    CELLA_TRY_ASSIGN(run, lookup(offset, out.size()));
    std::span<uint8_t> chunk = out.first(run.length);
    switch (run.kind) {
      case ExtentKind::kData:
        CELLA_TRY(file_.read(run.host_offset, chunk));
        break;
      case ExtentKind::kZero:
        std::memset(chunk.data(), 0, chunk.size());
        break;
      case ExtentKind::kUnallocated:
        CELLA_TRY(read_background(offset, chunk));
        break;
    }
    offset += run.length;
    out = out.subspan(run.length);
  }
  return ok();
}

Result<void> VdiImage::write_header() {
  std::vector<uint8_t> bytes(kHeaderEnd);
  encode_header(header_, bytes);
  CELLA_TRY(file_.write(0, bytes));
  header_dirty_ = false;
  return ok();
}

Result<void> VdiImage::begin_change() {
  if (read_only_) return make_error("{}: the image is open read-only", path());
  if (!damage_.empty()) {
    return make_error(
        "{}: the block map is damaged ({}); the image can be read but not written "
        "until it is repaired",
        path(), damage_);
  }
  if (changed_) return ok();
  // The modification UUID changes with the content, as VirtualBox does on the first write, so
  // that differencing images made from this one can tell.
  header_.modify_uuid = random_uuid();
  CELLA_TRY(write_header());
  CELLA_TRY(file_.flush());
  changed_ = true;
  return ok();
}

Result<uint32_t> VdiImage::allocate(uint32_t count) {
  if (uint64_t{header_.blocks_allocated} + count > header_.blocks) {
    // Only slots leaked by a crash can make the count run out: reclaim them.
    CELLA_TRY(flush());
    CELLA_TRY(compact());
    if (uint64_t{header_.blocks_allocated} + count > header_.blocks) {
      return make_error("{}: no data block left ({} of {} allocated)", path(),
                        header_.blocks_allocated, header_.blocks);
    }
  }
  const uint32_t first = header_.blocks_allocated;
  header_.blocks_allocated += count;
  header_dirty_ = true;  // written with the data, before any map entry that uses the slots
  return first;
}

Result<uint64_t> VdiImage::write_new_blocks(uint64_t offset, std::span<const uint8_t> data) {
  const uint64_t block_size = header_.block_size;
  const uint32_t block = static_cast<uint32_t>(offset / block_size);
  const uint64_t within = offset % block_size;
  if (within == 0 && data.size() >= block_size) {
    // Whole unallocated blocks: contiguous slots, written straight from the caller's buffer.
    uint32_t count = 1;
    while ((count + 1) * block_size <= data.size() && !is_allocated(map_.get(block + count))) {
      ++count;
    }
    CELLA_TRY_ASSIGN(first, allocate(count));
    if (header_.block_extra == 0) {
      CELLA_TRY(file_.write(header_.slot_offset(first), data.first(count * block_size)));
    } else {
      for (uint32_t i = 0; i < count; ++i) {
        CELLA_TRY(
            file_.write(header_.slot_offset(first + i), data.subspan(i * block_size, block_size)));
      }
    }
    for (uint32_t i = 0; i < count; ++i) map_.set(block + i, first + i);
    return uint64_t{count} * block_size;
  }
  // Part of a block: complete it with what the disk reads there now.
  std::vector<uint8_t> buffer(block_size, 0);
  const uint64_t start = uint64_t{block} * block_size;
  if (map_.get(block) == kBlockFree) {
    CELLA_TRY(read_background(
        start, std::span<uint8_t>(buffer.data(), std::min(block_size, size() - start))));
  }
  const uint64_t length = std::min<uint64_t>(block_size - within, data.size());
  std::memcpy(buffer.data() + within, data.data(), length);
  CELLA_TRY_ASSIGN(slot, allocate(1));
  CELLA_TRY(file_.write(header_.slot_offset(slot), buffer));
  map_.set(block, slot);
  return length;
}

Result<void> VdiImage::write(uint64_t offset, std::span<const uint8_t> data) {
  CELLA_TRY(check_range(offset, data.size(), "write"));
  CELLA_TRY(begin_change());
  while (!data.empty()) {
    CELLA_TRY_ASSIGN(run, lookup(offset, data.size()));
    uint64_t done = run.length;
    if (run.kind == ExtentKind::kData) {
      CELLA_TRY(file_.write(run.host_offset, data.first(done)));
    } else {
      CELLA_TRY_ASSIGN(written, write_new_blocks(offset, data));
      done = written;
    }
    offset += done;
    data = data.subspan(done);
  }
  return ok();
}

Result<void> VdiImage::flush() {
  if (read_only_) return ok();
  // The data and the allocated count first; the map entries pointing at new data only after
  // an fdatasync, then another.
  if (header_dirty_) CELLA_TRY(write_header());
  if (map_.dirty()) {
    CELLA_TRY(file_.flush());
    CELLA_TRY(map_.write_dirty(file_, header_.blocks_offset));
  }
  return file_.flush();
}

Result<std::vector<Extent>> VdiImage::map(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range(offset, length, "map"));
  std::vector<Extent> out;
  while (length > 0) {
    CELLA_TRY_ASSIGN(run, lookup(offset, length));
    if (run.kind == ExtentKind::kUnallocated) {
      CELLA_TRY(append_backing_extents(out, backing_.get(), offset, run.length));
    } else {
      Extent extent{offset, run.length, run.kind, 0, -1, {}};
      if (run.kind == ExtentKind::kData) {
        extent.host_offset = static_cast<int64_t>(run.host_offset);
        extent.host_file = path();
      }
      append_extent(out, std::move(extent));
    }
    offset += run.length;
    length -= run.length;
  }
  return out;
}

std::vector<InfoField> VdiImage::info() const {
  std::vector<InfoField> fields = {
      {"image-type", std::string(type_name(header_.type))},
      {"version", fmt::format("{}.{}", header_.version >> 16, header_.version & 0xffff)},
      {"blocks", std::to_string(header_.blocks)},
      {"allocated-blocks", std::to_string(header_.blocks_allocated)},
      {"uuid", format_uuid(header_.create_uuid)},
      {"modification-uuid", format_uuid(header_.modify_uuid)},
  };
  if (header_.type == ImageType::kDiff) {
    fields.push_back({"parent-uuid", format_uuid(header_.linkage_uuid)});
    fields.push_back({"parent-modification-uuid", format_uuid(header_.parent_modify_uuid)});
  }
  if (!header_.comment.empty()) fields.push_back({"comment", header_.comment});
  return fields;
}

}  // namespace cella::block::vdi
