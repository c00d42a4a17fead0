#include "block/qcow2/table_cache.h"

#include <algorithm>

namespace cella::block::qcow2 {

TableCache::Handle::Handle(Entry* entry) : entry_(entry) {
  ++entry_->pins;
}

TableCache::Handle& TableCache::Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    release();
    entry_ = other.entry_;
    other.entry_ = nullptr;
  }
  return *this;
}

void TableCache::Handle::release() {
  if (entry_ != nullptr) --entry_->pins;
  entry_ = nullptr;
}

uint64_t TableCache::Handle::offset() const {
  return entry_->offset;
}
std::span<uint8_t> TableCache::Handle::bytes() {
  return entry_->data;
}
std::span<const uint8_t> TableCache::Handle::bytes() const {
  return entry_->data;
}

void TableCache::Handle::mark_dirty() {
  if (!entry_->dirty) {
    entry_->dirty = true;
    ++entry_->cache->dirty_count_;
  }
}

TableCache::TableCache(Storage& storage, size_t table_bytes, size_t capacity)
    : storage_(storage), table_bytes_(table_bytes), capacity_(std::max<size_t>(capacity, 2)) {}

TableCache::~TableCache() = default;

void TableCache::touch(Entry& entry) {
  lru_.splice(lru_.begin(), lru_, entry.lru);
}

Result<void> TableCache::write_entry(Entry& entry) {
  CELLA_TRY(storage_.write(entry.offset, entry.data));
  entry.dirty = false;
  --dirty_count_;
  return ok();
}

Result<void> TableCache::make_room() {
  // Evict least recently used unpinned tables; pinned ones may push the cache over capacity
  // for the duration of one operation.
  auto it = lru_.end();
  while (entries_.size() >= capacity_ && it != lru_.begin()) {
    --it;
    Entry* victim = *it;
    if (victim->pins > 0) continue;
    if (victim->dirty) {
      if (before_write_) CELLA_TRY(before_write_());
      CELLA_TRY(write_entry(*victim));
    }
    it = lru_.erase(it);
    entries_.erase(victim->offset);
  }
  return ok();
}

Result<TableCache::Entry*> TableCache::insert(uint64_t offset) {
  CELLA_TRY(make_room());
  auto entry = std::make_unique<Entry>();
  entry->offset = offset;
  entry->data.assign(table_bytes_, 0);
  entry->cache = this;
  lru_.push_front(entry.get());
  entry->lru = lru_.begin();
  Entry* raw = entry.get();
  entries_.emplace(offset, std::move(entry));
  return raw;
}

Result<TableCache::Handle> TableCache::load(uint64_t offset) {
  if (auto it = entries_.find(offset); it != entries_.end()) {
    ++hits_;
    touch(*it->second);
    return Handle(it->second.get());
  }
  ++misses_;
  CELLA_TRY_ASSIGN(entry, insert(offset));
  if (auto read = storage_.read(offset, entry->data); !read) {
    lru_.erase(entry->lru);
    entries_.erase(offset);
    return read.error();
  }
  return Handle(entry);
}

Result<TableCache::Handle> TableCache::create(uint64_t offset) {
  Entry* entry = nullptr;
  if (auto it = entries_.find(offset); it != entries_.end()) {
    entry = it->second.get();
    std::fill(entry->data.begin(), entry->data.end(), 0);
    touch(*entry);
  } else {
    CELLA_TRY_ASSIGN(inserted, insert(offset));
    entry = inserted;
  }
  Handle handle(entry);
  handle.mark_dirty();
  return handle;
}

Result<void> TableCache::write_dirty() {
  if (dirty_count_ == 0) return ok();
  if (before_write_) CELLA_TRY(before_write_());
  std::vector<Entry*> dirty;
  for (auto& [offset, entry] : entries_) {
    if (entry->dirty) dirty.push_back(entry.get());
  }
  std::sort(dirty.begin(), dirty.end(),
            [](const Entry* a, const Entry* b) { return a->offset < b->offset; });
  for (Entry* entry : dirty) CELLA_TRY(write_entry(*entry));
  return ok();
}

void TableCache::forget(uint64_t offset) {
  auto it = entries_.find(offset);
  if (it == entries_.end()) return;
  if (it->second->dirty) --dirty_count_;
  lru_.erase(it->second->lru);
  entries_.erase(it);
}

void TableCache::clear() {
  entries_.clear();
  lru_.clear();
  dirty_count_ = 0;
}

}  // namespace cella::block::qcow2
