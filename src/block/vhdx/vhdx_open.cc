// Opening a VHDX: file identifier, the current header, log replay, region table, metadata and
// BAT, each field checked against the file before it sizes an allocation or is followed.
#include <algorithm>

#include "base/bits.h"
#include "base/log.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

Result<std::unique_ptr<BlockImage>> VhdxImage::open(HostFile file, const OpenOptions& options) {
  std::unique_ptr<VhdxImage> image(new VhdxImage(std::move(file)));
  CELLA_TRY(image->load_headers());
  CELLA_TRY(image->replay_if_needed());
  CELLA_TRY(image->load_regions());
  CELLA_TRY(image->load_metadata());
  CELLA_TRY(image->load_bat());
  if (image->differencing()) CELLA_TRY(image->open_parent(options));
  return std::unique_ptr<BlockImage>(std::move(image));
}

Result<void> VhdxImage::load_headers() {
  CELLA_TRY_ASSIGN(file_size, file_.size());
  if (file_size < kHeaderSectionSize) {
    return make_error("file is too small to be a VHDX image ({} bytes)", file_size);
  }
  std::vector<uint8_t> identifier(64 * kKiB);
  CELLA_TRY(file_.read(kFileIdentifierOffset, identifier));
  if (!has_file_identifier(identifier)) return make_error("no 'vhdxfile' file type identifier");
  creator_ = file_creator(identifier);
  // [MS-VHDX] 2.2.2: of two valid headers, the one with the greater SequenceNumber is current.
  Result<Header> headers[2] = {make_error("unread"), make_error("unread")};
  for (int i = 0; i < 2; ++i) {
    std::array<uint8_t, kHeaderSize> bytes{};
    CELLA_TRY(file_.read(kHeaderOffsets[i], bytes));
    headers[i] = parse_header(bytes);
  }
  if (!headers[0] && !headers[1]) {
    return make_error("neither VHDX header is valid (header 1: {}; header 2: {})",
                      headers[0].error().message(), headers[1].error().message());
  }
  for (int i = 0; i < 2; ++i) {
    if (!headers[i])
      notes_.push_back(
          fmt::format("header {} is damaged: {}", i + 1, headers[i].error().message()));
  }
  current_header_ = !headers[0]                                                 ? 1
                    : !headers[1]                                               ? 0
                    : headers[1]->sequence_number > headers[0]->sequence_number ? 1
                                                                                : 0;
  header_ = *headers[current_header_];
  if (header_.log_offset > file_size || header_.log_length > file_size - header_.log_offset) {
    return make_error("the log ({} bytes at {:#x}) extends beyond the end of the file",
                      header_.log_length, header_.log_offset);
  }
  return ok();
}

Result<void> VhdxImage::replay_if_needed() {
  const LogRegion log{header_.log_offset, header_.log_length, header_.log_guid};
  CELLA_TRY_ASSIGN(sequence, find_active_sequence(file_, log));
  if (sequence.empty()) return ok();
  CELLA_TRY_ASSIGN(overlay, LogOverlay::build(file_, log, sequence));
  const char* entries = sequence.size() == 1 ? "entry" : "entries";
  if (read_only()) {
    // [MS-VHDX] 2.3.3 asks for the log to be replayed before the image is used; a read-only
    // open cannot write, so it reads through the replayed pages in memory and says so.
    notes_.push_back(fmt::format(
        "the metadata log holds {} unapplied {} (the image was not closed cleanly): they are "
        "applied in memory only; a read-write open replays them into the file",
        sequence.size(), entries));
    log::warn("{}: {}", path(), notes_.back());
    overlay_ = std::move(overlay);
    return ok();
  }
  CELLA_TRY(overlay.write_to(file_));
  // [MS-VHDX] 2.3.3: once replayed, the log is empty: a zero LogGuid says so.
  Header updated = header_;
  updated.log_guid = Guid{};
  CELLA_TRY(update_headers(updated));
  log_replayed_ = true;
  notes_.push_back(fmt::format("replayed {} metadata log {} left by an unclean shutdown",
                               sequence.size(), entries));
  return ok();
}

Result<void> VhdxImage::read_file(uint64_t offset, std::span<uint8_t> out) const {
  if (overlay_.empty()) return file_.read(offset, out);
  CELLA_TRY(file_.read_zero_filled(offset, out));  // the log may have grown the file
  overlay_.apply(offset, out);
  return ok();
}

Result<uint64_t> VhdxImage::replayed_file_size() const {
  CELLA_TRY_ASSIGN(size, file_.size());
  return std::max(size, overlay_.file_size());
}

Result<void> VhdxImage::load_regions() {
  CELLA_TRY_ASSIGN(file_size, replayed_file_size());
  Result<std::vector<RegionEntry>> tables[2] = {make_error("unread"), make_error("unread")};
  std::vector<uint8_t> raw[2];
  for (int i = 0; i < 2; ++i) {
    raw[i].resize(kRegionTableSize);
    CELLA_TRY(read_file(kRegionTableOffsets[i], raw[i]));
    tables[i] = parse_region_table(raw[i]);
  }
  if (!tables[0] && !tables[1]) {
    return make_error("neither region table is valid (table 1: {}; table 2: {})",
                      tables[0].error().message(), tables[1].error().message());
  }
  for (int i = 0; i < 2; ++i) {
    if (!tables[i]) {
      notes_.push_back(
          fmt::format("region table {} is damaged: {}", i + 1, tables[i].error().message()));
    }
  }
  if (tables[0] && tables[1] && raw[0] != raw[1]) notes_.push_back("the two region tables differ");
  regions_ = tables[0] ? *tables[0] : *tables[1];
  bool have_bat = false, have_metadata = false;
  std::vector<FileRange> ranges = {{0, kHeaderSectionSize, "header section"},
                                   {header_.log_offset, header_.log_length, "log"}};
  for (const RegionEntry& region : regions_) {
    const bool is_bat = region.guid == kBatRegion, is_metadata = region.guid == kMetadataRegion;
    const std::string name = is_bat        ? "BAT region"
                             : is_metadata ? "metadata region"
                                           : "region " + region.guid.to_string();
    if (!is_bat && !is_metadata) {
      // [MS-VHDX] 2.2.3.2 Required: an unknown required region cannot be ignored.
      if (region.required) return make_error("required {} is not supported", name);
      continue;
    }
    if ((is_bat && have_bat) || (is_metadata && have_metadata)) {
      return make_error("the region table lists the {} twice", name);
    }
    (is_bat ? have_bat : have_metadata) = true;
    (is_bat ? bat_region_ : metadata_region_) = region;
    if (region.file_offset % kAlignment != 0 || region.length % kAlignment != 0 ||
        region.length == 0 || region.file_offset < kHeaderSectionSize) {
      return make_error(
          "{} ({} bytes at {:#x}) is not on 1 MiB boundaries after the header "
          "section",
          name, region.length, region.file_offset);
    }
    if (region.file_offset > file_size || region.length > file_size - region.file_offset) {
      return make_error("{} ({} bytes at {:#x}) extends beyond the end of the file", name,
                        region.length, region.file_offset);
    }
    ranges.push_back({region.file_offset, region.length, name});
  }
  if (!have_bat || !have_metadata) {
    return make_error("the region table has no {} region", have_bat ? "metadata" : "BAT");
  }
  for (const Overlap& overlap : find_overlaps(ranges)) return make_error("{}", overlap.message());
  return ok();
}

Result<void> VhdxImage::load_metadata() {
  std::vector<uint8_t> table(kMetadataTableSize);
  CELLA_TRY(read_file(metadata_region_.file_offset, table));
  CELLA_TRY_ASSIGN(entries, parse_metadata_table(table));
  metadata_entries_ = entries;
  auto read_item = [&](uint64_t offset, uint32_t length) -> Result<std::vector<uint8_t>> {
    std::vector<uint8_t> bytes(length);
    CELLA_TRY(read_file(metadata_region_.file_offset + offset, bytes));
    return bytes;
  };
  CELLA_TRY_ASSIGN(metadata, decode_metadata(entries, metadata_region_.length, read_item));
  metadata_ = metadata;
  layout_ = BatLayout::compute(metadata_.virtual_disk_size, metadata_.block_size,
                               metadata_.logical_sector_size, metadata_.has_parent);
  // [MS-VHDX] 2.5: the BAT region holds at least every entry the disk needs.
  if (layout_.total_entries * 8 > bat_region_.length) {
    return make_error(
        "the BAT region ({} bytes) cannot hold the {} entries a {}-byte disk "
        "with {}-byte blocks needs",
        bat_region_.length, layout_.total_entries, metadata_.virtual_disk_size,
        metadata_.block_size);
  }
  return ok();
}

Result<void> VhdxImage::load_bat() {
  CELLA_TRY_ASSIGN(file_size, replayed_file_size());
  // Whole 4 KiB pages of the table, as the log rewrites them.
  const uint64_t bytes = align_up(layout_.total_entries * 8, kLogSector);
  std::vector<uint8_t> raw(bytes);
  CELLA_TRY(read_file(bat_region_.file_offset, raw));
  bat_.resize(bytes / 8);
  for (size_t i = 0; i < bat_.size(); ++i) bat_[i] = load_le<uint64_t>(&raw[i * 8]);
  bad_entries_.assign(bat_.size(), false);

  std::vector<FileRange> ranges = {
      {0, kHeaderSectionSize, "header section"},
      {header_.log_offset, header_.log_length, "log"},
      {bat_region_.file_offset, bat_region_.length, "BAT region"},
      {metadata_region_.file_offset, metadata_region_.length, "metadata region"}};
  auto claim = [&](uint64_t index, uint64_t length, const char* kind, uint64_t number,
                   bool required) {
    const uint64_t offset = entry_offset(bat_[index]);
    if (offset < kHeaderSectionSize || offset > file_size || length > file_size - offset) {
      if (required) {
        bat_problems_.add("{} {} (BAT entry {}) is at {:#x}, outside the file", kind, number, index,
                          offset);
        bad_entries_[index] = true;
      }
      return;
    }
    ranges.push_back({offset, length, {}, static_cast<int64_t>(index), kind, number});
  };
  constexpr const char* kPayload = "payload block";
  for (uint64_t block = 0; block < layout_.payload_blocks; ++block) {
    const uint64_t index = layout_.payload_index(block);
    const uint8_t state = entry_state(bat_[index]);
    const auto typed = static_cast<PayloadState>(state);
    if (state == 4 || state == 5 || (typed == PayloadState::kPartiallyPresent && !differencing())) {
      bat_problems_.add("{} {} has state {}, invalid in a{} image", kPayload, block,
                        payload_state_name(state),
                        differencing() ? " differencing" : " non-differencing");
      bad_entries_[index] = true;
    } else if (typed == PayloadState::kFullyPresent || typed == PayloadState::kPartiallyPresent) {
      claim(index, metadata_.block_size, kPayload, block, true);
      if (typed == PayloadState::kPartiallyPresent &&
          entry_state(bitmap_entry(block / layout_.chunk_ratio)) !=
              static_cast<uint8_t>(BitmapState::kPresent)) {
        bat_problems_.add("{} {} is partially present but its chunk has no sector bitmap", kPayload,
                          block);
        bad_entries_[index] = true;
      }
    } else if (entry_offset(bat_[index]) != 0) {
      claim(index, metadata_.block_size, kPayload, block, false);  // kept for a zero block
    }
  }
  constexpr const char* kBitmap = "sector bitmap block";
  for (uint64_t chunk = 0; chunk < layout_.bitmap_blocks; ++chunk) {
    const uint64_t index = layout_.bitmap_index(chunk);
    if (index >= layout_.total_entries) break;
    const uint8_t state = entry_state(bat_[index]);
    if (state == static_cast<uint8_t>(BitmapState::kPresent)) {
      claim(index, kSectorBitmapBlockSize, kBitmap, chunk, true);
    } else if (state != static_cast<uint8_t>(BitmapState::kNotPresent)) {
      bat_problems_.add("{} {} has the invalid state {}", kBitmap, chunk, state);
      bad_entries_[index] = true;
    }
  }
  for (const Overlap& overlap : find_overlaps(ranges)) {
    bat_problems_.add("{}", overlap);
    for (const FileRange* side : {overlap.earlier, overlap.later}) {
      if (side->tag >= 0) bad_entries_[static_cast<size_t>(side->tag)] = true;
    }
  }
  file_end_ = align_up(file_size, kAlignment);
  free_ = FreeSpace::gaps(ranges, kHeaderSectionSize, file_end_);
  if (!bat_problems_.empty() && !read_only()) {
    return make_error("the image is corrupt and cannot be opened for writing: {}",
                      bat_problems_.summary());
  }
  return ok();
}

uint64_t VhdxImage::bitmap_entry(uint64_t chunk) const {
  const uint64_t index = layout_.bitmap_index(chunk);
  return index < bat_.size() ? bat_[index] : 0;
}

Result<void> VhdxImage::check_block_usable(uint64_t block) const {
  const uint64_t index = layout_.payload_index(block);
  const bool bad_bitmap =
      differencing() && bad_entries_[layout_.bitmap_index(block / layout_.chunk_ratio)] &&
      entry_state(bat_[index]) == static_cast<uint8_t>(PayloadState::kPartiallyPresent);
  if (bad_entries_[index] || bad_bitmap) {
    return make_error("payload block {} has a corrupt BAT entry (run check for details)", block);
  }
  return ok();
}

}  // namespace cella::block::vhdx
