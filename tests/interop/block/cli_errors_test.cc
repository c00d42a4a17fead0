// Wrong flags, bad sizes and missing files: a clear message and qemu-img's exit codes, never
// a crash (the binary under test runs with AddressSanitizer in the dev build).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "interop_util.h"
#include "tests/support/temp_dir.h"

namespace cella::interop {
namespace {

class CliErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = dir_.file("a.raw");
    ASSERT_EQ(qemu_img({"create", "-q", "-f", "raw", image_, "1M"}).exit_code, 0);
  }

  // Runs `cella img ARGS` and expects exit_code with every needle in stderr.
  void expect_failure(const std::vector<std::string>& args, int exit_code,
                      const std::vector<std::string>& needles) {
    RunResult result = cella(args);
    EXPECT_EQ(result.exit_code, exit_code) << describe(result);
    for (const std::string& needle : needles) {
      EXPECT_NE(result.err.find(needle), std::string::npos)
          << "'" << needle << "' missing from: " << describe(result);
    }
  }

  cella::testing::TempDir dir_;
  std::string image_;
};

TEST_F(CliErrors, UnknownFlagsAndSubcommands) {
  expect_failure({"info", "--bogus", image_}, 1, {"--bogus", "cella img info --help"});
  expect_failure({"check", "--bogus", image_}, 1, {"--bogus"});
  expect_failure({"convert", "-Z", image_, dir_.file("b.raw")}, 1, {"-Z"});
  // compare: 1 means "different", so its usage errors are 2.
  expect_failure({"compare", "--bogus", image_, image_}, 2, {"--bogus"});
  expect_failure({"compare", image_}, 2, {"filename2"});
  expect_failure({"frobnicate"}, 1, {"frobnicate"});
  expect_failure({}, 1, {"subcommand"});
}

TEST_F(CliErrors, BadValues) {
  expect_failure({"create", "-f", "raw", dir_.file("b.raw"), "12Q"}, 1, {"12Q", "suffix"});
  expect_failure({"create", "-f", "raw", dir_.file("b.raw"), "-5"}, 1, {"-5"});
  expect_failure({"create", "-f", "raw", dir_.file("b.raw"), "9E"}, 1, {"too large"});
  expect_failure({"create", "-f", "qcow9", dir_.file("b.img"), "1M"}, 1, {"qcow9", "raw"});
  expect_failure({"create", "-f", "raw", dir_.file("b.raw")}, 1, {"no size"});
  expect_failure({"create", "-f", "raw", "-o", "cluster_size=64k", dir_.file("b.raw"), "1M"}, 1,
                 {"cluster_size"});
  expect_failure({"create", "-f", "raw", "-o", "preallocation=metadata", dir_.file("b.raw"), "1M"},
                 1, {"metadata"});
  expect_failure({"create", "-f", "raw", "-b", "a.raw", dir_.file("b.raw"), "1M"}, 1, {"-F raw"});
  expect_failure({"info", "--output", "xml", image_}, 1, {"xml"});
  expect_failure({"check", "-r", "everything", image_}, 1, {"everything"});
  // Only the names: not the numbers a choice is stored as.
  expect_failure({"info", "--output", "1", image_}, 1, {"human", "json"});
  expect_failure({"check", "-r", "2", image_}, 1, {"leaks", "all"});
  expect_failure({"convert", "-S", "1000", image_, dir_.file("b.raw")}, 1, {"-S 1000"});
  expect_failure({"convert", "-t", "fast", image_, dir_.file("b.raw")}, 1, {"fast"});
  expect_failure({"convert", "-O", "qcow9", image_, dir_.file("b.img")}, 1, {"qcow9"});
  expect_failure({"convert", image_}, 1, {"source and a target"});
  expect_failure({"map", "--start-offset", "x", image_}, 1, {"'x'"});
  expect_failure({"resize", image_, "+"}, 1, {"invalid size"});
  expect_failure({"resize", image_, "-2M", "--shrink"}, 1, {"cannot shrink"});
  expect_failure({"resize", "--preallocation", "metadata", image_, "2M"}, 1, {"metadata"});
  expect_failure({"rebase", image_}, 1, {"-b"});
  EXPECT_FALSE(access(dir_.file("b.raw").c_str(), F_OK) == 0);  // nothing was created
}

TEST_F(CliErrors, MissingFiles) {
  const std::string missing = dir_.file("missing.img");
  expect_failure({"info", missing}, 1, {"missing.img", "No such file"});
  expect_failure({"check", missing}, 1, {"missing.img"});
  expect_failure({"map", missing}, 1, {"missing.img"});
  expect_failure({"compare", image_, missing}, 2, {"missing.img"});
  expect_failure({"convert", missing, dir_.file("b.raw")}, 1, {"missing.img"});
  expect_failure({"resize", missing, "1M"}, 1, {"missing.img"});
  expect_failure({"commit", image_}, 1, {"no backing file"});
}

TEST_F(CliErrors, ShrinkNeedsConfirmation) {
  expect_failure({"resize", image_, "512k"}, 1, {"--shrink"});
  expect_failure({"resize", image_, "-512k"}, 1, {"--shrink"});
  EXPECT_EQ(file_size(image_), 1u << 20);
  RunResult shrunk = cella({"resize", image_, "--shrink", "--", "-512k"});
  EXPECT_EQ(shrunk.exit_code, 0) << describe(shrunk);
  EXPECT_EQ(file_size(image_), 512u << 10);
}

TEST_F(CliErrors, ConvertRefusesToOverwriteItsSource) {
  qemu_io("raw", image_, {"write -P 0x61 0 4k"});
  expect_failure({"convert", "-U", "-O", "raw", image_, image_}, 1, {"part of the source"});
  expect_failure({"convert", "-O", "raw", image_,
                  dir_.path() + "/../" + dir_.path().substr(dir_.path().rfind('/') + 1) + "/a.raw"},
                 1, {"part of the source"});
  qemu_io("raw", image_, {"read -P 0x61 0 4k"});
  EXPECT_EQ(file_size(image_), 1u << 20);
}

TEST_F(CliErrors, HelpIsNotAnError) {
  for (const char* command :
       {"create", "info", "check", "convert", "commit", "rebase", "resize", "map", "compare"}) {
    RunResult help = cella({command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command << describe(help);
    EXPECT_NE(help.out.find("Usage"), std::string::npos) << command;
  }
  RunResult img_help = cella({"--help"});
  EXPECT_EQ(img_help.exit_code, 0);
  EXPECT_NE(img_help.out.find("convert"), std::string::npos);
  RunResult options = cella({"create", "-f", "raw", "-o", "help"});
  EXPECT_EQ(options.exit_code, 0);
  EXPECT_NE(options.out.find("preallocation"), std::string::npos);
}

TEST_F(CliErrors, CheckExitCodesAndJson) {
  RunResult clean = cella({"check", image_});
  EXPECT_EQ(clean.exit_code, 0) << describe(clean);
  EXPECT_NE(clean.out.find("No errors were found on the image."), std::string::npos);
  RunResult json = cella({"check", "--output", "json", image_});
  EXPECT_EQ(json.exit_code, 0);
  auto report = parse_json(json);
  EXPECT_EQ(report["check-errors"], 0);
  EXPECT_EQ(report["format"], "raw");
  EXPECT_EQ(report["filename"], image_);
  EXPECT_EQ(cella({"check", "-q", image_}).out, "");
  expect_failure({"check", "-r", "all", "-U", image_}, 1, {"-U"});
}

// Cella's image locks and qemu's are the same open-file-description locks: neither tool
// writes an image the other has open for writing.
TEST_F(CliErrors, LocksAgainstQemu) {
  // qemu-io keeps the image open (read-write) while it sleeps.
  const std::vector<std::string> argv = {"qemu-io", "-f", "raw", "-c", "sleep 60000", image_};
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int null = ::open("/dev/null", O_RDWR);
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  // Wait until qemu-io holds its locks (it takes them when it opens the image).
  bool locked = false;
  for (int attempt = 0; attempt < 1000 && !locked; ++attempt) {
    const int fd = ::open(image_.c_str(), O_RDONLY);
    struct flock query {};
    query.l_type = F_WRLCK;
    query.l_whence = SEEK_SET;
    locked = fcntl(fd, F_OFD_GETLK, &query) == 0 && query.l_type != F_UNLCK;
    ::close(fd);
    if (!locked) usleep(10000);
  }
  ASSERT_TRUE(locked) << "qemu-io never locked the image";
  expect_failure({"resize", image_, "2M"}, 1, {"in use"});
  RunResult shared = cella({"info", "-U", image_});
  EXPECT_EQ(shared.exit_code, 0) << describe(shared);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(cella({"resize", image_, "2M"}).exit_code, 0);
}

}  // namespace
}  // namespace cella::interop
