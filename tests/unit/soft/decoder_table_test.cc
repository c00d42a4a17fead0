#include <gtest/gtest.h>

#include "engines/soft/decoder/decoder.h"

namespace cella::soft {
namespace {

TEST(DecoderTable, TableIsConsistent) {
  const Decoder& decoder = Decoder::instance();
  for (const std::string& error : decoder.table_errors()) ADD_FAILURE() << error;
  EXPECT_GT(decoder.form_count(), 100u);
}

TEST(DecoderTable, EveryFormHasSemantics) {
  const Decoder& decoder = Decoder::instance();
  for (uint16_t i = 0; i < decoder.form_count(); ++i) {
    const FormSpec& form = decoder.form(i);
    bool any = false;
    for (auto& by_size : form.handlers.fn) {
      for (ExecFn fn : by_size) any |= fn != nullptr;
    }
    EXPECT_TRUE(any) << form.mnemonic << " " << form.opcode;
  }
}

DecodeResult decode(std::initializer_list<uint8_t> bytes) {
  std::vector<uint8_t> v(bytes);
  return Decoder::instance().decode(v.data(), v.size());
}

std::string mnemonic(const DecodeResult& r) {
  return r.kind == DecodeResult::Kind::kOk ? Decoder::instance().form(r.insn.form).mnemonic
                                           : "(invalid)";
}

TEST(Decoder, PrefixesModrmSibDisplacementImmediate) {
  // 48 81 84 88 78 56 34 12 44 33 22 11: add qword [rax+rcx*4+0x12345678], 0x11223344
  auto r = decode({0x48, 0x81, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12, 0x44, 0x33, 0x22, 0x11});
  ASSERT_EQ(r.kind, DecodeResult::Kind::kOk);
  EXPECT_EQ(mnemonic(r), "ADD");
  EXPECT_EQ(r.insn.length, 12);
  EXPECT_EQ(r.insn.opsize, 8);
  EXPECT_TRUE(r.insn.has_memory);
  EXPECT_EQ(r.insn.base, 0);
  EXPECT_EQ(r.insn.index, 1);
  EXPECT_EQ(r.insn.scale, 2);
  EXPECT_EQ(r.insn.disp, 0x12345678);
  EXPECT_EQ(r.insn.imm, 0x11223344);
}

TEST(Decoder, RipRelativeAndHighByteRegisters) {
  auto r = decode({0x8b, 0x05, 0x10, 0x00, 0x00, 0x00});  // mov eax, [rip+0x10]
  ASSERT_EQ(r.kind, DecodeResult::Kind::kOk);
  EXPECT_EQ(r.insn.base, kRipRelative);
  EXPECT_EQ(r.insn.disp, 0x10);
  r = decode({0x88, 0xe0});  // mov al, ah: ModRM.reg = AH = offset of RAX + 1
  ASSERT_EQ(r.kind, DecodeResult::Kind::kOk);
  EXPECT_EQ(r.insn.reg, 1);
  EXPECT_EQ(r.insn.rm, 0);
  r = decode({0x40, 0x88, 0xe0});  // mov al, spl with REX
  EXPECT_EQ(r.insn.reg, 4 * 8);
}

TEST(Decoder, OperandSizeRules) {
  EXPECT_EQ(decode({0x66, 0x01, 0xc0}).insn.opsize, 2);        // add ax, ax
  EXPECT_EQ(decode({0x66, 0x48, 0x01, 0xc0}).insn.opsize, 8);  // REX.W beats 66
  EXPECT_EQ(decode({0x50}).insn.opsize, 8);                    // push rax: d64
  EXPECT_EQ(decode({0x66, 0x50}).insn.opsize, 2);              // push ax
  EXPECT_EQ(decode({0x66, 0xe8, 0, 0, 0, 0}).insn.length, 6);  // call rel32: f64 ignores 66
  EXPECT_EQ(decode({0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}).insn.imm, 0x0807060504030201);
}

TEST(Decoder, InvalidAndTruncated) {
  EXPECT_EQ(decode({0x06}).kind, DecodeResult::Kind::kInvalid);  // push es: #UD in 64-bit
  EXPECT_EQ(decode({0xf0, 0x01, 0xc0}).kind, DecodeResult::Kind::kInvalid);  // lock on register
  EXPECT_EQ(decode({0xf0, 0x39, 0x00}).kind, DecodeResult::Kind::kInvalid);  // lock cmp
  EXPECT_EQ(decode({0x48, 0x81}).kind, DecodeResult::Kind::kNeedMoreBytes);
  std::vector<uint8_t> long_insn(14, 0x66);
  long_insn.push_back(0x90);
  long_insn.push_back(0x90);
  EXPECT_EQ(Decoder::instance().decode(long_insn.data(), long_insn.size()).kind,
            DecodeResult::Kind::kOk);  // exactly 15 bytes
  long_insn.insert(long_insn.begin(), 0x66);
  EXPECT_EQ(Decoder::instance().decode(long_insn.data(), long_insn.size()).kind,
            DecodeResult::Kind::kTooLong);
}

TEST(Decoder, MandatoryPrefixSelectsForm) {
  EXPECT_EQ(mnemonic(decode({0xf3, 0x90})), "PAUSE");
  EXPECT_EQ(mnemonic(decode({0x90})), "XCHG");
  EXPECT_EQ(mnemonic(decode({0xf3, 0x0f, 0x1e, 0xfa})), "NOP");  // endbr64
}

}  // namespace
}  // namespace cella::soft
