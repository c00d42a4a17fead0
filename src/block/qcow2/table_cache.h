// A bounded write-back cache of cluster-sized metadata tables (L2 tables, refcount blocks),
// least recently used first out. Writes of dirty tables go through a hook that runs first, which
// is how metadata ordering is enforced (an L2 table is written only after the refcounts and data
// it points to are durable).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/bits.h"
#include "base/result.h"
#include "block/qcow2/storage.h"

namespace cella::block::qcow2 {

class TableCache {
  struct Entry;

 public:
  // A pinned table: it stays in the cache, unevicted, while a handle refers to it.
  class Handle {
   public:
    Handle() = default;
    Handle(Handle&& other) noexcept : entry_(other.entry_) { other.entry_ = nullptr; }
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { release(); }

    uint64_t offset() const;
    std::span<uint8_t> bytes();
    std::span<const uint8_t> bytes() const;
    uint64_t get64(size_t index) const { return load_be<uint64_t>(bytes().data() + index * 8); }
    void set64(size_t index, uint64_t value) {
      store_be<uint64_t>(bytes().data() + index * 8, value);
      mark_dirty();
    }
    void mark_dirty();

   private:
    friend class TableCache;
    explicit Handle(Entry* entry);
    void release();
    Entry* entry_ = nullptr;
  };

  using Hook = std::function<Result<void>()>;

  TableCache(Storage& storage, size_t table_bytes, size_t capacity);
  ~TableCache();

  // Runs before any dirty table is written (eviction or write_dirty).
  void set_before_write(Hook hook) { before_write_ = std::move(hook); }

  // The table at a host offset, read from the file on a miss.
  Result<Handle> load(uint64_t offset);
  // A new table at a host offset, zero-filled and dirty, without reading the file.
  Result<Handle> create(uint64_t offset);
  // Writes every dirty table (in offset order) after running the hook once.
  Result<void> write_dirty();
  bool has_dirty() const { return dirty_count_ > 0; }
  // Drops a table without writing it (it was freed). It must not be pinned.
  void forget(uint64_t offset);
  // Drops every table; dirty ones are lost (callers write_dirty first).
  void clear();

  size_t capacity() const { return capacity_; }
  size_t size() const { return entries_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  struct Entry {
    uint64_t offset = 0;
    std::vector<uint8_t> data;
    bool dirty = false;
    int pins = 0;
    TableCache* cache = nullptr;
    std::list<Entry*>::iterator lru;
  };

  Result<Entry*> insert(uint64_t offset);
  Result<void> make_room();
  Result<void> write_entry(Entry& entry);
  void touch(Entry& entry);

  Storage& storage_;
  size_t table_bytes_;
  size_t capacity_;
  std::unordered_map<uint64_t, std::unique_ptr<Entry>> entries_;
  std::list<Entry*> lru_;  // front: most recently used
  size_t dirty_count_ = 0;
  Hook before_write_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace cella::block::qcow2
