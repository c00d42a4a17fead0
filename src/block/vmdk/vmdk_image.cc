#include "block/vmdk/vmdk_image.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "base/log.h"
#include "block/extents.h"
#include "block/ops/zero.h"

namespace cella::block::vmdk {

VmdkImage::VmdkImage(Parts parts)
    : path_(std::move(parts.path)),
      read_only_(parts.read_only),
      descriptor_text_(std::move(parts.descriptor_text)),
      descriptor_(std::move(parts.descriptor)),
      descriptor_file_(std::move(parts.descriptor_file)),
      descriptor_place_(parts.embedded),
      extents_(std::move(parts.extents)),
      backing_(std::move(parts.backing)) {
  if (descriptor_file_) descriptor_place_ = DescriptorPlace{&*descriptor_file_, 0, 0};
  for (const ExtentSlot& slot : extents_) size_ += slot.extent->size();
}

VmdkImage::~VmdkImage() = default;

Result<void> VmdkImage::check_range(uint64_t offset, uint64_t length, std::string_view what) const {
  if (offset > size_ || length > size_ - offset) {
    return make_error("{}: {} of {} bytes at offset {} is beyond the end of the disk ({} bytes)",
                      path_, what, length, offset, size_);
  }
  return ok();
}

ExtentSlot& VmdkImage::slot_at(uint64_t offset) {
  auto it = std::upper_bound(extents_.begin(), extents_.end(), offset,
                             [](uint64_t at, const ExtentSlot& slot) { return at < slot.start; });
  return *std::prev(it);
}

template <class Fn>
Result<void> VmdkImage::for_each_piece(uint64_t offset, uint64_t length, Fn&& fn) {
  while (length > 0) {
    ExtentSlot& slot = slot_at(offset);
    const uint64_t local = offset - slot.start;
    const uint64_t n = std::min(length, slot.extent->size() - local);
    CELLA_TRY(fn(slot, local, n));
    offset += n;
    length -= n;
  }
  return ok();
}

Result<void> VmdkImage::read_background(uint64_t offset, std::span<uint8_t> out) {
  return ops::read_zero_filled(backing_.get(), offset, out);
}

Background VmdkImage::background_for(const ExtentSlot& slot) {
  const uint64_t start = slot.start;
  return [this, start](uint64_t offset, std::span<uint8_t> out) {
    return read_background(start + offset, out);
  };
}

Result<void> VmdkImage::read(uint64_t offset, std::span<uint8_t> out) {
  CELLA_TRY(check_range(offset, out.size(), "read"));
  return for_each_piece(offset, out.size(),
                        [&](ExtentSlot& slot, uint64_t local, uint64_t length) -> Result<void> {
                          if (slot.access == ExtentAccess::kNoAccess) {
                            return make_error("{}: disk offset {} is in a NOACCESS extent", path_,
                                              slot.start + local);
                          }
                          while (length > 0) {
                            CELLA_TRY_ASSIGN(segment, slot.extent->lookup(local, length));
                            std::span<uint8_t> chunk = out.first(segment.length);
                            switch (segment.kind) {
                              case ExtentKind::kData:
                                CELLA_TRY(slot.extent->read(segment, local, chunk));
                                break;
                              case ExtentKind::kZero:
                                std::memset(chunk.data(), 0, chunk.size());
                                break;
                              case ExtentKind::kUnallocated:
                                CELLA_TRY(read_background(slot.start + local, chunk));
                                break;
                            }
                            out = out.subspan(segment.length);
                            local += segment.length;
                            length -= segment.length;
                          }
                          return ok();
                        });
}

Result<void> VmdkImage::begin_change(const ExtentSlot& slot) {
  if (read_only_) return make_error("{}: the image is open read-only", path_);
  if (slot.access != ExtentAccess::kReadWrite || !slot.extent->writable()) {
    return make_error("{}: disk offset {} is in a {} extent ({}), which cannot be written", path_,
                      slot.start, access_name(slot.access), slot.extent->file_name());
  }
  CELLA_TRY(slot.extent->begin_writing());
  if (changed_) return ok();
  if (descriptor_place_.file != nullptr) {
    // "Header": the CID changes with the content; a delta disk records its parent's CID and so
    // detects a parent changed under it. Durable before the first data change.
    descriptor_.cid = new_cid(descriptor_.cid);
    const std::string text = replace_key(descriptor_text_, "CID", format_cid(descriptor_.cid));
    CELLA_TRY(write_descriptor(text));
    descriptor_text_ = text;
    CELLA_TRY(descriptor_place_.file->flush());
  }
  changed_ = true;
  return ok();
}

Result<void> VmdkImage::write_descriptor(const std::string& text) {
  HostFile& file = *descriptor_place_.file;
  if (descriptor_place_.capacity == 0) {
    CELLA_TRY(file.write(
        0, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
    return file.truncate(text.size());
  }
  if (text.size() > descriptor_place_.capacity) {
    return make_error("{}: the descriptor ({} bytes) no longer fits the {} bytes reserved for it",
                      path_, text.size(), descriptor_place_.capacity);
  }
  std::vector<uint8_t> area(descriptor_place_.capacity, 0);
  std::memcpy(area.data(), text.data(), text.size());
  return file.write(descriptor_place_.offset, area);
}

Result<void> VmdkImage::write(uint64_t offset, std::span<const uint8_t> data) {
  CELLA_TRY(check_range(offset, data.size(), "write"));
  return for_each_piece(
      offset, data.size(), [&](ExtentSlot& slot, uint64_t local, uint64_t length) -> Result<void> {
        CELLA_TRY(begin_change(slot));
        CELLA_TRY(slot.extent->write(local, data.first(length), background_for(slot)));
        data = data.subspan(length);
        return ok();
      });
}

Result<void> VmdkImage::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) {
  CELLA_TRY(check_range(offset, length, "write-zeroes"));
  return for_each_piece(offset, length,
                        [&](ExtentSlot& slot, uint64_t local, uint64_t n) -> Result<void> {
                          CELLA_TRY(begin_change(slot));
                          return slot.extent->write_zeroes(local, n, may_unmap, backing_ != nullptr,
                                                           background_for(slot));
                        });
}

Result<void> VmdkImage::discard(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range(offset, length, "discard"));
  if (read_only_) return make_error("{}: the image is open read-only", path_);
  return for_each_piece(offset, length,
                        [&](ExtentSlot& slot, uint64_t local, uint64_t n) -> Result<void> {
                          if (slot.access != ExtentAccess::kReadWrite || !slot.extent->writable())
                            return ok();
                          CELLA_TRY(begin_change(slot));
                          return slot.extent->discard(local, n);
                        });
}

Result<void> VmdkImage::flush() {
  if (read_only_) return ok();
  for (ExtentSlot& slot : extents_) CELLA_TRY(slot.extent->flush());
  if (descriptor_file_) CELLA_TRY(descriptor_file_->flush());
  return ok();
}

uint64_t VmdkImage::cluster_size() const {
  for (const ExtentSlot& slot : extents_) {
    if (slot.extent->grain_bytes() != 0) return slot.extent->grain_bytes();
  }
  return 0;
}

bool VmdkImage::supports_compressed_writes() const {
  return !read_only_ && descriptor_.create_type == "streamOptimized";
}

Result<void> VmdkImage::write_compressed(uint64_t offset, std::span<const uint8_t> cluster) {
  // Every grain of a stream-optimized extent is compressed: a plain write is a compressed one.
  if (!supports_compressed_writes()) return BlockImage::write_compressed(offset, cluster);
  return write(offset, cluster);
}

Result<std::vector<block::Extent>> VmdkImage::map(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range(offset, length, "map"));
  std::vector<block::Extent> out;
  const auto map_piece = [&](ExtentSlot& slot, uint64_t local, uint64_t n) -> Result<void> {
    while (n > 0) {
      CELLA_TRY_ASSIGN(segment, slot.extent->allocation(local, n));
      const uint64_t at = slot.start + local;
      if (segment.kind == ExtentKind::kUnallocated) {
        CELLA_TRY(append_backing_extents(out, backing_.get(), at, segment.length));
      } else {
        block::Extent extent{at, segment.length, segment.kind, 0, segment.host_offset, {}};
        if (extent.host_offset >= 0) extent.host_file = slot.extent->file_name();
        append_extent(out, std::move(extent));
      }
      local += segment.length;
      n -= segment.length;
    }
    return ok();
  };
  CELLA_TRY(for_each_piece(offset, length, map_piece));
  return out;
}

Result<CheckReport> VmdkImage::check(bool repair) {
  if (repair && read_only_)
    return make_error("{}: repairing needs the image open read-write", path_);
  CheckReport report;
  for (ExtentSlot& slot : extents_) CELLA_TRY(slot.extent->check(report, repair));
  return report;
}

std::vector<std::string> VmdkImage::host_files() const {
  // The descriptor (or the monolithic file), then each extent file once.
  std::vector<std::string> files = {path_};
  for (const ExtentSlot& slot : extents_) {
    const std::string& name = slot.extent->file_name();
    const bool listed = std::any_of(files.begin(), files.end(), [&](const std::string& file) {
      std::error_code error;
      return file == name || std::filesystem::equivalent(file, name, error);
    });
    if (!name.empty() && !listed) files.push_back(name);
  }
  return files;
}

std::vector<InfoField> VmdkImage::info() const {
  // qemu-img's keys and forms where it has them (cid and parent-cid in decimal).
  std::vector<InfoField> fields = {
      {"cid", std::to_string(descriptor_.cid)},
      {"parent-cid", std::to_string(descriptor_.parent_cid)},
  };
  if (!descriptor_.create_type.empty()) fields.push_back({"create-type", descriptor_.create_type});
  if (descriptor_.has_parent()) {
    fields.push_back({"parent-file-name-hint", descriptor_.parent_file_name_hint});
  }
  for (const auto& [key, label] :
       {std::pair{"ddb.adapterType", "adapter-type"},
        std::pair{"ddb.virtualHWVersion", "hardware-version"},
        std::pair{"ddb.geometry.cylinders", "cylinders"}, std::pair{"ddb.geometry.heads", "heads"},
        std::pair{"ddb.geometry.sectors", "sectors"}}) {
    if (auto value = descriptor_.value(key)) fields.push_back({label, *value});
  }
  const bool unclean = std::any_of(extents_.begin(), extents_.end(),
                                   [](const ExtentSlot& slot) { return slot.extent->unclean(); });
  fields.push_back({"unclean-shutdown", unclean ? "true" : "false"});
  for (size_t i = 0; i < extents_.size(); ++i) {
    const ExtentSlot& slot = extents_[i];
    std::string text = fmt::format("{} {} {} sectors", access_name(slot.access),
                                   slot.extent->kind_name(), slot.extent->size() / 512);
    if (!slot.extent->file_name().empty()) text += fmt::format(" in {}", slot.extent->file_name());
    if (slot.extent->grain_bytes() != 0) {
      text += fmt::format(", {} KiB grains", slot.extent->grain_bytes() / 1024);
    }
    fields.push_back({fmt::format("extent-{}", i), text});
  }
  return fields;
}

}  // namespace cella::block::vmdk
