// `cella img` verbs side by side with qemu-img on raw images (always built in): compare's
// exit codes and messages, convert's progress, and commit/rebase on an image without a chain.
// The per-format behaviour of every verb is in read_write_interop_test and chain_interop_test.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "interop_util.h"
#include "tests/support/temp_dir.h"

namespace cella::interop {
namespace {

class Verbs : public ::testing::Test {
 protected:
  std::string raw(const std::string& name, const std::string& size) {
    const std::string path = dir_.file(name);
    RunResult created = qemu_img({"create", "-q", "-f", "raw", path, size});
    EXPECT_EQ(created.exit_code, 0) << describe(created);
    return path;
  }

  cella::testing::TempDir dir_;
};

TEST_F(Verbs, CompareExitCodesMatchQemu) {
  const std::string a = raw("a.raw", "3M");
  const std::string b = raw("b.raw", "3M");
  // Written zeros and a hole compare equal.
  qemu_io("raw", b, {"write -P 0 64k 64k"});
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"compare", "-f", "raw", "-F", "raw", a, b}}) {
    RunResult ours = cella(args);
    EXPECT_EQ(ours.exit_code, 0) << describe(ours);
    EXPECT_EQ(ours.out, "Images are identical.\n");
    EXPECT_EQ(qemu_img(args).exit_code, 0);
  }

  // One differing byte, not on a sector boundary: Cella names it, qemu-img its sector.
  qemu_io("raw", a, {"write -P 0x01 1000001 7"});
  RunResult ours = cella({"compare", a, b});
  RunResult theirs = qemu_img({"compare", a, b});
  EXPECT_EQ(ours.exit_code, 1) << describe(ours);
  EXPECT_EQ(theirs.exit_code, 1) << describe(theirs);
  EXPECT_EQ(ours.out, "Content mismatch at offset 1000001!\n");
  EXPECT_EQ(theirs.out,
            "Content mismatch at offset " + std::to_string(1000001 / 512 * 512) + "!\n");
  EXPECT_EQ(cella({"compare", "-q", a, b}).out, "");
  EXPECT_EQ(cella({"compare", "-q", a, b}).exit_code, 1);

  // A larger image that reads as zeros past the smaller one's end is identical unless -s.
  const std::string c = raw("c.raw", "4M");
  ours = cella({"compare", b, c});
  EXPECT_EQ(ours.exit_code, 0) << describe(ours);
  EXPECT_EQ(ours.out, "Warning: Image size mismatch!\nImages are identical.\n");
  EXPECT_EQ(qemu_img({"compare", b, c}).exit_code, 0);
  ours = cella({"compare", "-s", b, c});
  EXPECT_EQ(ours.exit_code, 1) << describe(ours);
  EXPECT_EQ(ours.out, "Strict mode: Image size mismatch!\n");
  EXPECT_EQ(qemu_img({"compare", "-s", b, c}).exit_code, 1);
  // ... and differs when it holds data there.
  qemu_io("raw", c, {"write -P 0x09 3M 512"});
  ours = cella({"compare", b, c});
  EXPECT_EQ(ours.exit_code, 1) << describe(ours);
  EXPECT_NE(ours.out.find("Content mismatch at offset 3145728!"), std::string::npos) << ours.out;
  EXPECT_EQ(qemu_img({"compare", b, c}).exit_code, 1);

  // An image that cannot be opened is an error (2), named, as in qemu-img.
  const std::string missing = dir_.file("missing.raw");
  ours = cella({"compare", a, missing});
  EXPECT_EQ(ours.exit_code, 2) << describe(ours);
  EXPECT_NE(ours.err.find(missing), std::string::npos) << ours.err;
  EXPECT_EQ(qemu_img({"compare", a, missing}).exit_code, 2);
}

TEST_F(Verbs, ConvertShowsProgressUnlessQuiet) {
  const std::string source = raw("source.raw", "8M");
  qemu_io("raw", source, {"write -P 0x3c 1M 2M"});
  RunResult shown = cella({"convert", "-p", "-O", "raw", source, dir_.file("a.raw")});
  ASSERT_EQ(shown.exit_code, 0) << describe(shown);
  // Not a terminal: one line per step, rising to 100%.
  ASSERT_GE(shown.out.size(), 2u);
  EXPECT_NE(shown.out.find("    (0.00/100%)\n"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.substr(shown.out.rfind("    (")), "    (100.00/100%)\n") << shown.out;
  double last = -1;
  for (size_t at = shown.out.find('('); at != std::string::npos; at = shown.out.find('(', at + 1)) {
    const double percent = std::stod(shown.out.substr(at + 1));
    EXPECT_GE(percent, last);
    last = percent;
  }
  EXPECT_EQ(file_bytes(dir_.file("a.raw")), file_bytes(source));

  RunResult quiet = cella({"convert", "-p", "-q", "-O", "raw", source, dir_.file("b.raw")});
  ASSERT_EQ(quiet.exit_code, 0) << describe(quiet);
  EXPECT_EQ(quiet.out, "");
  RunResult silent = cella({"convert", "-O", "raw", source, dir_.file("c.raw")});
  EXPECT_EQ(silent.out, "");
}

TEST_F(Verbs, CommitAndRebaseNeedAFormatWithBackingFiles) {
  const std::string image = raw("a.raw", "1M");
  qemu_io("raw", image, {"write -P 0x21 0 4k"});
  RunResult commit = cella({"commit", "-f", "raw", image});
  EXPECT_EQ(commit.exit_code, 1) << describe(commit);
  EXPECT_NE(commit.err.find("has no backing file"), std::string::npos) << commit.err;

  const std::string other = raw("b.raw", "1M");
  for (const char* unsafe : {"-u", ""}) {
    std::vector<std::string> args = {"rebase", "-f", "raw", "-b", other, "-F", "raw", image};
    if (*unsafe != 0) args.insert(args.begin() + 1, unsafe);
    RunResult rebase = cella(args);
    EXPECT_EQ(rebase.exit_code, 1) << describe(rebase);
    EXPECT_NE(rebase.err.find("raw images cannot have a backing file"), std::string::npos)
        << rebase.err;
  }
  // Nothing was changed by the refused commands.
  RunResult read = qemu_io("raw", image, {"read -P 0x21 0 4k", "read -P 0 4k 1020k"});
  EXPECT_EQ(read.out.find("Pattern verification failed"), std::string::npos) << read.out;
  EXPECT_EQ(file_size(image), 1u << 20);
}

}  // namespace
}  // namespace cella::interop
