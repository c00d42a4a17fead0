// Header updates ([MS-VHDX] 2.2.2.1) and the write session they bracket: before the first
// change, new FileWriteGuid, DataWriteGuid and LogGuid; when the image is closed, LogGuid back
// to zero so that other readers find nothing to replay.
#include "base/log.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

Result<void> VhdxImage::update_headers(const Header& updated) {
  // Written to the non-current slot with the next sequence number, then flushed, which makes it
  // current; done twice so that both slots hold the new header (a crash in between leaves the
  // previous header valid in the other slot).
  for (int round = 0; round < 2; ++round) {
    Header next = updated;
    next.sequence_number = header_.sequence_number + 1;
    const int slot = 1 - current_header_;
    CELLA_TRY(file_.write(kHeaderOffsets[slot], serialize_header(next)));
    CELLA_TRY(file_.flush());
    header_ = next;
    current_header_ = slot;
  }
  return ok();
}

Result<void> VhdxImage::begin_modification() {
  if (session_started_) return ok();
  if (read_only()) return make_error("{}: the image is open read-only", path());
  // [MS-VHDX] 2.2.2: FileWriteGuid changes before the first change to the file after an open,
  // DataWriteGuid before the first change to the disk's data (children of this image record it,
  // so they notice), LogGuid before log entries are written with it.
  Header updated = header_;
  updated.file_write_guid = Guid::random();
  updated.data_write_guid = Guid::random();
  updated.log_guid = Guid::random();
  CELLA_TRY(update_headers(updated));
  log_.start({header_.log_offset, header_.log_length, header_.log_guid});
  session_started_ = true;
  return ok();
}

VhdxImage::~VhdxImage() {
  if (!session_started_ || read_only()) return;
  Header updated = header_;
  updated.log_guid = Guid{};
  auto closed = [&]() -> Result<void> {
    CELLA_TRY(file_.flush());  // every applied log entry durable before the log is declared empty
    return update_headers(updated);
  }();
  if (!closed) log::warn("{}: closing: {}", path(), closed.error().message());
}

}  // namespace cella::block::vhdx
