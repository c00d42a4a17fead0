// A delta disk's parent ("Header": parentCID, parentFileNameHint): reporting it, recording a
// new one (`rebase -u`), and deallocating every grain so that the disk reads the parent again
// (`commit`).
#include "block/format_registry.h"
#include "block/vmdk/vmdk_image.h"

namespace cella::block::vmdk {

std::string VmdkImage::backing_file() const {
  return descriptor_.has_parent() ? descriptor_.parent_file_name_hint : std::string();
}

std::string VmdkImage::backing_format() const {
  return descriptor_.has_parent() ? "vmdk" : std::string();
}

Result<void> VmdkImage::set_backing(const std::string& path, const std::string& format) {
  if (read_only_) return make_error("{}: the image is open read-only", path_);
  if (descriptor_place_.file == nullptr) {
    return make_error("{}: a bare sparse extent has no descriptor to record a parent in", path_);
  }
  if (!format.empty() && format != "vmdk") {
    return make_error("the parent of a VMDK delta disk must be a VMDK image, not {}", format);
  }
  // parentCID is the parent's CID now: the delta disk is valid over the parent as it is.
  uint32_t parent_cid = kNoParentCid;
  std::string text = descriptor_text_;
  if (path.empty()) {
    text = remove_key(text, "parentFileNameHint");
  } else {
    OpenOptions options;
    options.read_only = true;
    options.format = "vmdk";
    options.open_backing = false;
    auto parent = open_image(resolve_backing_path(path_, path), options);
    if (!parent) return parent.error().context(fmt::format("parent \"{}\"", path));
    parent_cid = static_cast<const VmdkImage&>(**parent).cid();
    text = replace_key(text, "parentFileNameHint", fmt::format("\"{}\"", path));
  }
  text = replace_key(text, "parentCID", format_cid(parent_cid));
  CELLA_TRY(write_descriptor(text));
  CELLA_TRY(descriptor_place_.file->flush());
  descriptor_text_ = std::move(text);
  descriptor_.parent_cid = parent_cid;
  descriptor_.parent_file_name_hint = path;
  return ok();
}

Result<void> VmdkImage::make_empty() {
  if (!descriptor_.has_parent()) {
    return make_error("{}: not a delta disk (parentCID ffffffff): there is no parent to empty into",
                      path_);
  }
  // Only grains can be deallocated: a flat extent would read zeros, not the parent's data.
  for (const ExtentSlot& slot : extents_) {
    if (slot.extent->grain_bytes() == 0 || !slot.extent->writable() ||
        slot.access != ExtentAccess::kReadWrite) {
      return make_error("{}: the {} extent {} cannot have its grains deallocated", path_,
                        slot.extent->kind_name(), slot.extent->file_name());
    }
  }
  CELLA_TRY(discard(0, size_));
  // `commit` changed the parent (and so its CID): the emptied disk is valid over it as it is.
  if (const auto* parent = dynamic_cast<const VmdkImage*>(backing_.get());
      parent != nullptr && parent->cid() != descriptor_.parent_cid) {
    std::string text = replace_key(descriptor_text_, "parentCID", format_cid(parent->cid()));
    CELLA_TRY(write_descriptor(text));
    descriptor_text_ = std::move(text);
    descriptor_.parent_cid = parent->cid();
  }
  return flush();
}

}  // namespace cella::block::vmdk
