// CodeRegion: the memory that holds translated code, mapped twice (W^X): the translator
// writes through a read-write view, the CPU executes through a read-execute view of the same
// pages, so no page is ever writable and executable at once. Blocks are allocated by bumping a
// cursor; when the region is full the code cache drops every translation and reset() starts
// over (translations are cheap to redo, so no per-block freeing).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cella::soft::jit {

class CodeRegion {
 public:
  explicit CodeRegion(size_t size);
  ~CodeRegion();
  CodeRegion(const CodeRegion&) = delete;
  CodeRegion& operator=(const CodeRegion&) = delete;

  // False when the host refused the mapping (then nothing is ever translated).
  bool usable() const { return writable_ != nullptr; }
  // The unused part, for a translator to write into; commit() claims what it wrote.
  uint8_t* cursor() const { return writable_ + used_; }
  size_t available() const { return size_ - used_; }
  // Claims `bytes` at the cursor and returns their executable address.
  const uint8_t* commit(size_t bytes);
  void reset() { used_ = 0; }
  size_t used() const { return used_; }

 private:
  uint8_t* writable_ = nullptr;
  const uint8_t* executable_ = nullptr;
  size_t size_ = 0;
  size_t used_ = 0;
};

}  // namespace cella::soft::jit
