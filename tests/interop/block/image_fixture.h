// A per-test folder and the qemu-img / cella steps the interoperability tests share.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "format_cases.h"
#include "interop_util.h"
#include "tests/support/temp_dir.h"

namespace cella::interop {

// 5 MiB and 3 sectors: not a multiple of any cluster, grain or block size.
inline constexpr uint64_t kOddSize = (5 << 20) + 1536;

// GoogleTest parameter names from the format table.
struct CaseName {
  std::string operator()(const ::testing::TestParamInfo<FormatCase>& info) const {
    return case_name(info.param);
  }
};

class ImageTest : public ::testing::TestWithParam<FormatCase> {
 protected:
  const FormatCase& format() const { return GetParam(); }
  std::string file(const std::string& name) const { return dir_.file(name); }

  // `qemu-img create` of this format (with the variant's -o), optionally over a backing file.
  void qemu_create(const std::string& path, uint64_t size, const std::string& backing = "",
                   const std::string& backing_format = "") {
    std::vector<std::string> args = {"create", "-q", "-f", format().qemu_name};
    if (*format().qemu_options != 0) args.insert(args.end(), {"-o", format().qemu_options});
    if (!backing.empty()) args.insert(args.end(), {"-b", backing, "-F", backing_format});
    args.push_back(path);
    if (size != 0) args.push_back(std::to_string(size));
    RunResult created = qemu_img(args);
    ASSERT_EQ(created.exit_code, 0) << describe(created);
  }

  // `FLAG FORMAT [-o VARIANT]`: the format of an image Cella creates (`create -f`,
  // `convert -O`), in this line's variant.
  std::vector<std::string> cella_format(const char* flag) const {
    std::vector<std::string> args = {flag, format().name};
    if (*format().qemu_options != 0) args.insert(args.end(), {"-o", format().qemu_options});
    return args;
  }

  // `cella img SUBCOMMAND` + cella_format(flag) + rest.
  RunResult cella_with_format(const char* subcommand, const char* flag,
                              const std::vector<std::string>& rest) const {
    std::vector<std::string> args = {subcommand};
    for (const std::string& arg : cella_format(flag)) args.push_back(arg);
    args.insert(args.end(), rest.begin(), rest.end());
    return cella(args);
  }

  // Writes a pattern that has data, unaligned data, explicit zeros and a written last sector.
  void write_pattern(const std::string& path, const std::string& qemu_format, uint64_t size) {
    qemu_io(qemu_format, path,
            {"write -P 0xab 0 64k", "write -P 0x11 100000 3000", "write -P 0xcd 1M 192k",
             "write -z 1088k 64k", "write -P 0 3M 128k",
             "write -P 0x5a " + std::to_string(size - 512) + " 512"});
  }

  // The raw content qemu-img reads from an image.
  std::string qemu_raw_copy(const std::string& path, const std::string& qemu_format) {
    const std::string copy = path + ".reference.raw";
    RunResult converted = qemu_img({"convert", "-f", qemu_format, "-O", "raw", path, copy});
    EXPECT_EQ(converted.exit_code, 0) << describe(converted);
    return copy;
  }

  void expect_qemu_check_clean(const std::string& path) {
    if (!format().qemu_check) return;
    RunResult check = qemu_img({"check", "-f", format().qemu_name, path});
    EXPECT_EQ(check.exit_code, 0) << describe(check);
  }

  void expect_qemu_identical(const std::string& a, const std::string& a_format,
                             const std::string& b, const std::string& b_format) {
    RunResult compared = qemu_img({"compare", "-f", a_format, "-F", b_format, a, b});
    EXPECT_EQ(compared.exit_code, 0) << describe(compared);
  }

  void expect_cella_identical(const std::string& a, const std::string& b) {
    RunResult compared = cella({"compare", a, b});
    EXPECT_EQ(compared.exit_code, 0) << describe(compared);
    EXPECT_EQ(compared.out, "Images are identical.\n");
  }

 private:
  cella::testing::TempDir dir_;
};

}  // namespace cella::interop
