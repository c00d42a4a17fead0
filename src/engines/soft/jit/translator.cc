#include "engines/soft/jit/translator.h"

#include <xbyak/xbyak.h>

#include "engines/soft/jit/block_translator.h"
#include "engines/soft/jit/code_region.h"

namespace cella::soft::jit {

Translator::Translator(size_t region_bytes) : region_(std::make_unique<CodeRegion>(region_bytes)) {}

Translator::~Translator() = default;

Translator::Result Translator::translate(const SoftCpu& cpu, Block& block) {
  if (!region_->usable()) return Result::kUnavailable;
  const CpuLayout layout = CpuLayout::of(cpu);
  try {
    Xbyak::CodeGenerator gen(region_->available(), region_->cursor());
    const size_t body = BlockTranslator(gen, layout, block).translate();
    const uint8_t* code = region_->commit(gen.getSize());
    block.translated = reinterpret_cast<TranslatedBlock>(const_cast<uint8_t*>(code));
    block.translated_body = code + body;
    return Result::kTranslated;
  } catch (const Xbyak::Error&) {
    return Result::kFull;  // the generator ran out of room (ERR_CODE_IS_TOO_BIG)
  }
}

void Translator::reset() {
  region_->reset();
}

size_t Translator::bytes_used() const {
  return region_->used();
}

}  // namespace cella::soft::jit
