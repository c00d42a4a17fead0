// Administration of an open image: consistency check and repair, info, backing file changes.
#include "base/bits.h"
#include "block/qcow2/check.h"
#include "block/qcow2/qcow2_image.h"

namespace cella::block::qcow2 {

Result<void> Qcow2Image::set_backing(const std::string& path, const std::string& format) {
  CELLA_TRY(check_request(0, 0, true));
  if (path.empty() && !format.empty()) {
    return make_error("{}: a backing format without a backing file", this->path());
  }
  Header updated = header_;
  updated.backing_file = path;
  updated.backing_format = path.empty() ? "" : format;
  // Validate before writing: the name must fit in the first cluster with the extensions.
  CELLA_TRY(serialize_header(updated));
  CELLA_TRY(flush());
  header_ = std::move(updated);
  return rewrite_header();
}

Result<CheckReport> Qcow2Image::check(bool repair) {
  if (repair && read_only())
    return make_error("{}: cannot repair an image opened read-only", path());
  if (!read_only()) {
    // The check reads the file: everything this process knows must be there first.
    auto flushed = flush();
    if (flushed) flushed = write_metadata();  // with the refcounts the flush just released
    if (!flushed && !repair) return flushed.error();
  }
  if (repair && (header_.autoclear_features & ~kAutoclearBitmaps) != 0) {
    // A repair writes: unknown autoclear features go first. Bitmaps stay valid (no guest data
    // changes) and keep their bit.
    uint8_t field[8];
    store_be<uint64_t>(field, header_.autoclear_features & kAutoclearBitmaps);
    CELLA_TRY(write_header_field(kOffAutoclearFeatures, field));
    header_.autoclear_features &= kAutoclearBitmaps;
  }
  CheckInput input{storage_, header_, layout_, snapshots_, snapshot_table_bytes_};
  CELLA_TRY_ASSIGN(report, check_image(input, repair));
  if (repair) {
    CELLA_TRY(reload_metadata());
    if (report.corruptions == 0) {
      CELLA_TRY(set_incompatible_bits(header_.incompatible_features &
                                      ~(kIncompatCorrupt | kIncompatDirty)));
      corrupt_ = !problems_.empty();
      corrupt_reason_ = problems_.empty() ? "" : problems_.front();
    }
    marked_dirty_ = false;
    writing_ = false;
  }
  return report;
}

std::vector<InfoField> Qcow2Image::info() const {
  // qemu-img info's "Format specific information", in its order and names. Virtual size,
  // cluster size, backing file and the dirty bit come through the BlockImage interface.
  std::vector<InfoField> fields;
  auto yes_no = [](bool value) { return std::string(value ? "true" : "false"); };
  fields.push_back({"compat", header_.version == 2 ? "0.10" : "1.1"});
  if (header_.version >= 3) {
    fields.push_back({"compression type", compression_type_name(header_.compression_type)});
    fields.push_back({"lazy refcounts", yes_no(header_.lazy_refcounts())});
  }
  fields.push_back({"refcount bits", fmt::format("{}", layout_.refcount_bits)});
  fields.push_back({"corrupt", yes_no((header_.incompatible_features & kIncompatCorrupt) != 0)});
  fields.push_back({"extended l2", yes_no(layout_.extended_l2)});
  if (header_.bitmaps) {
    fields.push_back(
        {"bitmaps",
         fmt::format("{} (not maintained by Cella: {})", header_.bitmaps->nb_bitmaps,
                     (header_.autoclear_features & kAutoclearBitmaps) ? "dropped on the first write"
                                                                      : "inconsistent")});
  }
  // One line per internal snapshot (qemu-img info's snapshot list).
  for (const Snapshot& s : snapshots_) fields.push_back({"snapshot", format_snapshot(s)});
  return fields;
}

}  // namespace cella::block::qcow2
