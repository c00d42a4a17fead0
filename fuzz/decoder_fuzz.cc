// Fuzzes the instruction decoder: any bytes decode to a valid instruction, #UD, #GP (too
// long) or "need more bytes", never a crash; a decoded length never exceeds the input or 15;
// and where Zydis decodes the same bytes, the lengths agree.
#include <Zydis/Zydis.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "engines/soft/decoder/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cella::soft::DecodeResult;
  static ZydisDecoder reference = [] {
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisDecoderEnableMode(&d, ZYDIS_DECODER_MODE_MPX, ZYAN_FALSE);
    return d;
  }();
  const auto& decoder = cella::soft::Decoder::instance();
  const DecodeResult result = decoder.decode(data, size);
  if (result.kind != DecodeResult::Kind::kOk) return 0;
  const size_t length = result.insn.length;
  if (length == 0 || length > size || length > cella::soft::kMaxInstructionLength ||
      result.insn.exec == nullptr) {
    std::fprintf(stderr, "decoder: bad result (length %zu)\n", length);
    std::abort();
  }
  ZydisDecodedInstruction instruction;
  ZydisDecoderContext context;
  if (ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&reference, &context, data, size, &instruction)) &&
      instruction.length != length) {
    std::fprintf(stderr, "decoder: length %zu, Zydis %u (%s)\n", length, instruction.length,
                 ZydisMnemonicGetString(instruction.mnemonic));
    std::abort();
  }
  return 0;
}
