// Translator: the second tier of the software CPU. Blocks that the interpreter has run often
// enough (CodeCache's translation policy) are translated to host code (block_translator.h)
// that the run loop calls instead of interpreting them.
#pragma once

#include <cstddef>
#include <memory>

namespace cella::soft {
struct Block;
struct SoftCpu;
}  // namespace cella::soft

namespace cella::soft::jit {

class CodeRegion;

class Translator {
 public:
  explicit Translator(size_t region_bytes);
  ~Translator();

  enum class Result {
    kTranslated,   // block.translated is set
    kFull,         // no room: drop every translation (their blocks), reset(), retry later
    kUnavailable,  // the host gave no executable memory: interpret
  };
  Result translate(const SoftCpu& cpu, Block& block);
  // Forgets every translation; call only when no block refers to one any more.
  void reset();
  size_t bytes_used() const;

 private:
  std::unique_ptr<CodeRegion> region_;
};

}  // namespace cella::soft::jit
