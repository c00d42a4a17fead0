// Reads and maps of VHDX images, block by block through the BAT ([MS-VHDX] 2.5.1.1), sector
// by sector through the sector bitmap for partially present blocks ([MS-VHDX] 2.4.2).
#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "block/block_pieces.h"
#include "block/extents.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

namespace {

constexpr uint64_t kBitmapPageSize = 4096;
constexpr uint64_t kSectorsPerPage = kBitmapPageSize * 8;
constexpr uint64_t kPagesPerBitmapBlock = kSectorBitmapBlockSize / kBitmapPageSize;
constexpr size_t kBitmapCachePages = 2048;  // 8 MiB

// Where a block's contents come from, by payload state ([MS-VHDX] 2.5.1.1): not present
// blocks from below (the parent, or zeros without one); zero, unmapped and undefined blocks are
// zeros in this image (undefined and unmapped may read as anything: Cella never shows stale
// data); present blocks from the file, wholly or per the sector bitmap. Reserved states (4, 5)
// never get here: the BAT check marks them corrupt.
enum class Source { kBelow, kZero, kFile, kBitmap };
constexpr Source kSources[8] = {Source::kBelow, Source::kZero, Source::kZero, Source::kZero,
                                Source::kZero,  Source::kZero, Source::kFile, Source::kBitmap};

}  // namespace

Result<const std::vector<uint8_t>*> VhdxImage::bitmap_page(uint64_t chunk, uint64_t page) {
  const uint64_t key = chunk * kPagesPerBitmapBlock + page;
  if (auto it = bitmap_pages_.find(key); it != bitmap_pages_.end()) return &it->second;
  if (bitmap_pages_.size() >= kBitmapCachePages) bitmap_pages_.clear();
  std::vector<uint8_t> bytes(kBitmapPageSize);
  CELLA_TRY(read_file(entry_offset(bitmap_entry(chunk)) + page * kBitmapPageSize, bytes));
  return &bitmap_pages_.emplace(key, std::move(bytes)).first->second;
}

Result<VhdxImage::SectorRun> VhdxImage::sector_run(uint64_t first, uint64_t limit) {
  SectorRun run;
  uint64_t sector = first;
  while (sector < limit) {
    const uint64_t chunk = sector / kSectorsPerBitmapBlock;
    const uint64_t bit = sector % kSectorsPerBitmapBlock;
    CELLA_TRY_ASSIGN(page, bitmap_page(chunk, bit / kSectorsPerPage));
    const std::vector<uint8_t>& bytes = *page;
    const uint64_t page_end = std::min(limit, sector - bit % kSectorsPerPage + kSectorsPerPage);
    for (; sector < page_end; ++sector) {
      const uint64_t in_page = sector % kSectorsPerPage;
      const uint8_t byte = bytes[in_page / 8];
      if (in_page % 8 == 0 && sector + 8 <= page_end && sector > first &&
          byte == (run.present ? 0xFF : 0x00)) {
        sector += 7;  // a whole byte of the run
        continue;
      }
      const bool present = (byte >> (in_page % 8)) & 1;
      if (sector == first) {
        run.present = present;
      } else if (present != run.present) {
        run.count = sector - first;
        return run;
      }
    }
  }
  run.count = sector - first;
  return run;
}

Result<void> VhdxImage::read(uint64_t offset, std::span<uint8_t> out) {
  CELLA_TRY(check_range("read", offset, out.size()));
  return for_each_block_piece(offset, out.size(), metadata_.block_size,
                              [&](uint64_t block, uint64_t in_block, size_t done, size_t n) {
                                return read_block(block, in_block, out.subspan(done, n));
                              });
}

Result<void> VhdxImage::read_block(uint64_t block, uint64_t offset_in_block,
                                   std::span<uint8_t> out) {
  CELLA_TRY(check_block_usable(block));
  const uint64_t entry = payload_entry(block);
  const uint64_t disk_offset = block * metadata_.block_size + offset_in_block;
  switch (kSources[entry_state(entry)]) {
    case Source::kZero:
      std::memset(out.data(), 0, out.size());
      return ok();
    case Source::kBelow:
      return read_below(disk_offset, out);
    case Source::kFile:
      return read_file(entry_offset(entry) + offset_in_block, out);
    case Source::kBitmap:
      break;
  }
  const uint64_t sector_size = metadata_.logical_sector_size;
  const uint64_t last_sector = (disk_offset + out.size() - 1) / sector_size;
  uint64_t at = 0;
  while (at < out.size()) {
    const uint64_t sector = (disk_offset + at) / sector_size;
    CELLA_TRY_ASSIGN(run, sector_run(sector, last_sector + 1));
    const uint64_t run_end =
        std::min<uint64_t>(out.size(), (sector + run.count) * sector_size - disk_offset);
    std::span<uint8_t> piece = out.subspan(at, run_end - at);
    if (run.present) {
      CELLA_TRY(read_file(entry_offset(entry) + offset_in_block + at, piece));
    } else {
      CELLA_TRY(read_below(disk_offset + at, piece));
    }
    at = run_end;
  }
  return ok();
}

Result<void> VhdxImage::read_below(uint64_t offset, std::span<uint8_t> out) {
  size_t inside = 0;
  if (parent_ != nullptr && offset < parent_->size()) {
    inside = static_cast<size_t>(std::min<uint64_t>(out.size(), parent_->size() - offset));
    CELLA_TRY(parent_->read(offset, out.first(inside)));
  }
  std::memset(out.data() + inside, 0, out.size() - inside);
  return ok();
}

Result<void> VhdxImage::flush() {
  return file_.flush();
}

Result<std::vector<Extent>> VhdxImage::map(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range("map", offset, length));
  std::vector<Extent> extents;
  const uint64_t block_size = metadata_.block_size;
  const uint64_t sector_size = metadata_.logical_sector_size;
  const uint64_t end = offset + length;
  uint64_t at = offset;
  while (at < end) {
    const uint64_t block = at / block_size;
    const uint64_t block_end = std::min(end, (block + 1) * block_size);
    CELLA_TRY(check_block_usable(block));
    const uint64_t entry = payload_entry(block);
    const uint64_t host = entry_offset(entry) + (at - block * block_size);
    switch (kSources[entry_state(entry)]) {
      case Source::kZero:
        append_extent(extents, make_extent(at, block_end - at, ExtentKind::kZero));
        at = block_end;
        continue;
      case Source::kBelow:
        CELLA_TRY(map_below(extents, at, block_end - at));
        at = block_end;
        continue;
      case Source::kFile:
        append_extent(extents, make_extent(at, block_end - at, ExtentKind::kData, 0,
                                           static_cast<int64_t>(host), path()));
        at = block_end;
        continue;
      case Source::kBitmap:
        break;
    }
    const uint64_t last_sector = (block_end - 1) / sector_size;
    while (at < block_end) {
      CELLA_TRY_ASSIGN(run, sector_run(at / sector_size, last_sector + 1));
      const uint64_t run_end = std::min(block_end, (at / sector_size + run.count) * sector_size);
      if (run.present) {
        append_extent(extents, make_extent(at, run_end - at, ExtentKind::kData, 0,
                                           static_cast<int64_t>(entry_offset(entry) +
                                                                (at - block * block_size)),
                                           path()));
      } else {
        CELLA_TRY(map_below(extents, at, run_end - at));
      }
      at = run_end;
    }
  }
  return extents;
}

Result<void> VhdxImage::map_below(std::vector<Extent>& extents, uint64_t offset, uint64_t length) {
  return append_backing_extents(extents, parent_.get(), offset, length);
}

}  // namespace cella::block::vhdx
