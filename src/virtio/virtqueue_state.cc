// The virtqueue's snapshot section. The rings themselves are guest memory (saved with it);
// the section holds the device-side state: the layout and the device's indices.
#include "virtio/virtqueue.h"

namespace cella::virtio {

namespace {
constexpr char kSectionName[] = "virtqueue";
constexpr uint32_t kStateVersion = 1;
}  // namespace

void Virtqueue::save(snapshot::StateWriter& out) const {
  out.begin_section(kSectionName, kStateVersion);
  out.boolean(enabled_);
  out.u16(layout_.size);
  out.u64(layout_.descriptors);
  out.u64(layout_.available);
  out.u64(layout_.used);
  out.boolean(event_idx_);
  out.boolean(notifications_);
  out.u16(last_available_);
  out.u16(used_index_);
  out.u16(signalled_used_);
  out.boolean(signalled_valid_);
  out.end_section();
}

Result<void> Virtqueue::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(kSectionName, kStateVersion));
  CELLA_TRY_ASSIGN(enabled, in.boolean());
  CELLA_TRY_ASSIGN(size, in.u16());
  CELLA_TRY_ASSIGN(descriptors, in.u64());
  CELLA_TRY_ASSIGN(available, in.u64());
  CELLA_TRY_ASSIGN(used, in.u64());
  CELLA_TRY_ASSIGN(event_idx, in.boolean());
  CELLA_TRY_ASSIGN(notifications, in.boolean());
  CELLA_TRY_ASSIGN(last_available, in.u16());
  CELLA_TRY_ASSIGN(used_index, in.u16());
  CELLA_TRY_ASSIGN(signalled_used, in.u16());
  CELLA_TRY_ASSIGN(signalled_valid, in.boolean());
  CELLA_TRY(in.end_section());
  const QueueLayout layout{size, descriptors, available, used};

  if (!enabled) {
    reset();
    return ok();
  }
  // The same checks as enable(): a snapshot is as untrusted as the driver.
  Result<Rings> rings = map(layout);
  if (!rings) return rings.error().context("virtqueue state");
  layout_ = layout;
  rings_ = *rings;
  enabled_ = true;
  event_idx_ = event_idx;
  notifications_ = notifications;
  last_available_ = last_available;
  used_index_ = used_index;
  signalled_used_ = signalled_used;
  signalled_valid_ = signalled_valid;
  return ok();
}

}  // namespace cella::virtio
