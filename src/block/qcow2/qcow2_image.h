// A qcow2 image (versions 2 and 3) behind the BlockImage interface.
//
// Durability: write() leaves new metadata in bounded caches; flush() writes it in dependency
// order (refcounts, then data and refcounts made durable, then L2 tables, a barrier, then L1
// entries, a barrier) and only then releases clusters that stopped being referenced, so a crash
// at any instant leaves an image that opens and checks consistent, leaks at worst.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "block/block_image.h"
#include "block/format_registry.h"
#include "block/host_file.h"
#include "block/qcow2/cluster_map.h"
#include "block/qcow2/header.h"
#include "block/qcow2/layout.h"
#include "block/qcow2/metadata_map.h"
#include "block/qcow2/refcounts.h"
#include "block/qcow2/snapshots.h"
#include "block/qcow2/storage.h"

namespace cella::block::qcow2 {

// Cache sizes; zero picks the default: L2 tables covering the whole disk up to 32 MiB, and a
// quarter as many refcount blocks (each covers far more host space than an L2 table).
struct Tuning {
  uint64_t l2_cache_bytes = 0;
  uint64_t refcount_cache_bytes = 0;
};

inline constexpr uint64_t kDefaultMaxL2CacheBytes = 32ull << 20;

class Qcow2Image final : public BlockImage {
 public:
  static Result<std::unique_ptr<Qcow2Image>> open(HostFile file, const OpenOptions& options,
                                                  const Tuning& tuning = {});
  ~Qcow2Image() override;

  std::string format_name() const override { return "qcow2"; }
  uint64_t size() const override { return header_.size; }
  bool read_only() const override { return !file_.writable(); }
  const std::string& path() const override { return file_.path(); }
  BlockImage* backing() const override { return backing_.get(); }
  uint64_t cluster_size() const override { return layout_.cluster_size; }

  Result<void> read(uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data) override;
  Result<void> flush() override;
  Result<void> discard(uint64_t offset, uint64_t length) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
  Result<void> resize(uint64_t new_size) override;
  Result<void> resize_with_data_loss(uint64_t new_size) override;
  bool supports_compressed_writes() const override { return true; }
  Result<void> write_compressed(uint64_t offset, std::span<const uint8_t> cluster) override;
  Result<std::vector<Extent>> map(uint64_t offset, uint64_t length) override;
  Result<CheckReport> check(bool repair) override;
  std::vector<InfoField> info() const override;

  // The backing file as the header records it (relative names are relative to this image).
  std::string backing_file() const override { return header_.backing_file; }
  std::string backing_format() const override { return header_.backing_format; }
  // Records a new backing file (empty: none) without touching data (`rebase -u`); the open
  // image keeps reading through the backing image it was opened with.
  Result<void> set_backing(const std::string& path, const std::string& format) override;
  // Deallocates every cluster, zero clusters included, so that the whole disk reads from the
  // backing image again (`commit` without -d).
  Result<void> make_empty() override;
  // The dirty bit: the image was not closed cleanly under lazy refcounts.
  bool dirty() const override { return (header_.incompatible_features & kIncompatDirty) != 0; }

  const Header& header() const { return header_; }
  const std::vector<Snapshot>& snapshots() const { return snapshots_; }
  // Cache statistics, for tests and benchmarks.
  const TableCache& l2_cache() const { return clusters_.cache(); }
  TableCache& refcount_cache() { return refcounts_.cache(); }

 private:
  Qcow2Image(HostFile file, const Header& header, const Tuning& tuning);

  Result<void> load_metadata();
  Result<void> prepare_for_writing(const OpenOptions& options);
  Result<void> open_backing(const OpenOptions& options);
  Result<void> check_request(uint64_t offset, uint64_t length, bool writing) const;
  // Before the first change to the image: drops what writing would make stale (dirty bitmaps,
  // unknown autoclear features) and sets the dirty bit under lazy refcounts.
  Result<void> begin_writing();
  Result<void> rewrite_header();
  Result<void> write_header_field(uint32_t offset, std::span<const uint8_t> bytes);
  Result<void> set_incompatible_bits(uint64_t bits);
  Result<void> fail_corrupt(const Error& error);

  // I/O paths (qcow2_io.cc).
  Result<void> write_clusters(uint64_t offset, std::span<const uint8_t> data);
  // Replaces `count` whole clusters by new ones holding `data`.
  Result<void> write_new_clusters(uint64_t guest_cluster, uint64_t count,
                                  std::span<const uint8_t> data);
  // Writes part of one cluster that cannot be written in place (copy on write, subclusters).
  Result<void> write_partial_cluster(uint64_t guest_cluster, uint64_t in,
                                     std::span<const uint8_t> data);
  // What bytes [from, from + out.size()) of a guest cluster read, given its entry.
  Result<void> read_cluster_range(uint64_t guest_cluster, L2Slot slot, uint64_t from,
                                  std::span<uint8_t> out);
  Result<void> read_backing(uint64_t offset, std::span<uint8_t> out);
  // Copies bytes [in_cluster, in_cluster + out.size()) of a compressed cluster.
  Result<void> read_compressed(uint64_t guest_offset, uint64_t raw_entry, uint64_t in_cluster,
                               std::span<uint8_t> out);
  // A write target must not hold metadata; an existing one must also lie inside the file.
  Result<void> check_data_target(uint64_t host, uint64_t clusters, uint64_t guest_offset);
  Result<void> check_existing_target(uint64_t host, uint64_t clusters, uint64_t guest_offset);
  void queue_free(L2Slot old);

  // Zeroing and deallocation (qcow2_zero.cc).
  bool has_backing_file() const { return !header_.backing_file.empty(); }
  Result<bool> cluster_reads_zero(uint64_t guest_cluster);
  // Zeros a range inside one cluster.
  Result<void> zero_partial(uint64_t offset, uint64_t length);
  Result<void> zero_partial_bytes(uint64_t offset, uint64_t length);
  template <class Rule>
  Result<void> rewrite_entries(uint64_t guest_cluster, uint64_t count, Rule rule);
  Result<void> zero_clusters(uint64_t guest_cluster, uint64_t count, bool may_unmap);
  Result<void> deallocate_clusters(uint64_t guest_cluster, uint64_t count, bool to_unallocated);

  // Resize (qcow2_resize.cc).
  Result<void> resize_to(uint64_t new_size, bool allow_data_loss);
  Result<void> write_size(uint64_t new_size);

  // Durability (qcow2_image.cc).
  Result<void> write_metadata();
  Result<void> apply_pending_frees();
  Result<void> close();
  Result<void> reload_metadata();

  HostFile file_;
  Storage storage_;
  Header header_;
  Layout layout_;
  MetadataMap metadata_;
  Refcounts refcounts_;
  ClusterMap clusters_;
  std::unique_ptr<BlockImage> backing_;
  std::vector<Snapshot> snapshots_;
  uint64_t snapshot_table_bytes_ = 0;
  std::vector<PendingFree> pending_frees_;
  std::vector<std::string> problems_;  // structural damage found at open: writes are refused
  bool lazy_refcounts_ = false;
  bool marked_dirty_ = false;  // this process set the dirty bit (lazy refcounts)
  bool writing_ = false;       // begin_writing() ran
  bool corrupt_ = false;       // the corrupt bit is set, or damage was found
  std::string corrupt_reason_;
  // The last decompressed cluster, keyed by its L2 entry: sequential reads of a compressed
  // image decompress each cluster once.
  uint64_t decompressed_entry_ = 0;
  std::vector<uint8_t> decompressed_;
};

// The FormatDriver entry for format_registry.cc.
FormatDriver driver();

}  // namespace cella::block::qcow2
