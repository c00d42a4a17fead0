// Crash consistency of every writable image format: a child process writes random data at random
// offsets with periodic flushes, telling the parent about each write before it starts and each
// flush after it completes; the parent SIGKILLs the child at a random point, then opens the
// image, checks it (leaks allowed, nothing else), and verifies that every byte flushed before
// the kill reads back, and that every other byte holds either its flushed value or a value some
// unflushed write put there (never garbage).
//
// A format joins by adding lines to kCases below (format name, create options, backing file).
// Formats not in the registry of this build are skipped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "block/format_registry.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_data.h"

namespace cella::block {
namespace {

using cella::testing::TempDir;

struct CrashCase {
  const char* name;
  const char* format;
  std::map<std::string, std::string> options;
  bool with_backing;  // a backing image of the same format, filled with random data
  uint64_t size;
};

// One line per format variant. Sizes stay small: each case runs kKills kills.
const CrashCase kCases[] = {
    {"raw", "raw", {}, false, 4 << 20},
    {"qcow2_v2", "qcow2", {{"compat", "0.10"}}, false, 4 << 20},
    {"qcow2_v3", "qcow2", {}, false, 4 << 20},
    {"qcow2_v2_backing", "qcow2", {{"compat", "0.10"}, {"cluster_size", "4k"}}, true, 4 << 20},
    {"qcow2_v3_backing", "qcow2", {}, true, 4 << 20},
    // Extended L2 entries: subclusters allocated and zeroed one by one over a backing file.
    {"qcow2_v3_extended_l2_backing",
     "qcow2",
     {{"extended_l2", "on"}, {"cluster_size", "32k"}},
     true,
     4 << 20},
    // 512-byte clusters: many L2 tables and refcount blocks, so metadata allocation (new refcount
    // blocks, refcount table growth, cache eviction) happens all the time.
    {"qcow2_v3_512", "qcow2", {{"cluster_size", "512"}}, false, 2 << 20},
    // Lazy refcounts: refcounts may be stale after a crash; the dirty bit makes the next
    // read-write open repair them.
    {"qcow2_v3_lazy_refcounts", "qcow2", {{"lazy_refcounts", "on"}}, false, 4 << 20},
    // VHD: the block allocation table and sector bitmaps; force_size keeps the exact size.
    {"vhd_dynamic", "vhd", {{"block_size", "64k"}, {"force_size", "on"}}, false, 4 << 20},
    {"vhd_differencing", "vhd", {{"block_size", "64k"}, {"force_size", "on"}}, true, 4 << 20},
    // VHDX: metadata updates go through the log, replayed on the next open.
    {"vhdx_dynamic", "vhdx", {{"block_size", "1M"}}, false, 8 << 20},
    {"vhdx_differencing", "vhdx", {{"block_size", "1M"}}, true, 8 << 20},
    // VMDK hosted sparse extents: grain tables filled in after the grain is written; a delta
    // disk over a parent (parentFileNameHint, CID). streamOptimized is not here: its grains
    // are written once, in order, and never rewritten.
    {"vmdk_sparse", "vmdk", {{"subformat", "monolithicSparse"}}, false, 4 << 20},
    {"vmdk_delta", "vmdk", {{"subformat", "monolithicSparse"}}, true, 4 << 20},
    // VDI: the block map and the allocated count; freed blocks are compacted (moved). 64 KiB
    // blocks make many of them. The differencing image finds its parent by UUID.
    {"vdi_dynamic", "vdi", {{"block_size", "64k"}}, false, 4 << 20},
    {"vdi_differencing", "vdi", {{"block_size", "64k"}}, true, 4 << 20},
};

constexpr int kKills = 30;
constexpr int kMaxOpsPerChild = 3000;

// Messages from the child, one write(2) each (atomic: far below PIPE_BUF).
enum class MessageType : uint32_t { kWrite, kZeroes, kFlush, kError };
struct Message {
  MessageType type;
  uint32_t unused;
  uint64_t op;  // write: seed of its data
  uint64_t offset;
  uint64_t length;
};

// The data of write `op`: a deterministic stream both processes can produce cheaply (this runs
// unoptimized under sanitizers): a 4 KiB block unique to the write, repeated, with every 512-byte
// sector stamped with its position so that misplaced sectors show.
std::vector<uint8_t> op_data(uint64_t seed, uint64_t op, uint64_t length) {
  uint64_t block[512];
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + op;
  for (uint64_t& word : block) {
    state += 0x9e3779b97f4a7c15ull;  // splitmix64
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    word = z ^ (z >> 31);
  }
  std::vector<uint8_t> data(length);
  for (uint64_t at = 0; at < length; at += sizeof(block)) {
    std::memcpy(data.data() + at, block, std::min<uint64_t>(sizeof(block), length - at));
  }
  for (uint64_t at = 0; at + 8 <= length; at += 512) {
    const uint64_t stamp = (op << 32) ^ at ^ seed;
    std::memcpy(data.data() + at, &stamp, 8);
  }
  return data;
}

struct Op {
  MessageType type;
  uint64_t op;
  uint64_t offset;
  uint64_t length;
};

void send(int fd, const Message& message) {
  const ssize_t n = ::write(fd, &message, sizeof(message));
  if (n != static_cast<ssize_t>(sizeof(message))) ::_exit(3);
}

// The child: writes until killed (or until kMaxOpsPerChild). Never returns.
[[noreturn]] void run_writer(const std::string& path, const CrashCase& c, uint64_t seed, int fd) {
  OpenOptions options;
  options.format = c.format;
  auto image = open_image(path, options);
  if (!image) {
    send(fd, Message{MessageType::kError, 0, 0, 0, 0});
    ::_exit(2);
  }
  std::mt19937_64 rng(seed);
  const uint64_t size = (*image)->size();
  const uint64_t max_length = std::max<uint64_t>(4096, (*image)->cluster_size() * 3);
  int until_flush = 1 + static_cast<int>(rng() % 8);
  for (uint64_t op = 0; op < kMaxOpsPerChild; ++op) {
    const uint64_t length = 1 + rng() % std::min(max_length, size);
    const uint64_t offset = rng() % (size - length + 1);
    Result<void> done;
    if (rng() % 8 == 0) {
      send(fd, Message{MessageType::kZeroes, 0, op, offset, length});
      done = (*image)->write_zeroes(offset, length, rng() % 2 == 0);
    } else {
      send(fd, Message{MessageType::kWrite, 0, op, offset, length});
      done = (*image)->write(offset, op_data(seed, op, length));
    }
    if (done && --until_flush == 0) {
      done = (*image)->flush();
      if (done) send(fd, Message{MessageType::kFlush, 0, op, 0, 0});
      until_flush = 1 + static_cast<int>(rng() % 8);
    }
    if (!done) {
      send(fd, Message{MessageType::kError, 0, op, 0, 0});
      ::_exit(1);
    }
  }
  ::_exit(0);
}

void apply(const Op& op, uint64_t seed, std::vector<uint8_t>& content) {
  if (op.type == MessageType::kZeroes) {
    std::fill(content.begin() + op.offset, content.begin() + op.offset + op.length, 0);
  } else {
    const auto data = op_data(seed, op.op, op.length);
    std::copy(data.begin(), data.end(), content.begin() + op.offset);
  }
}

class CrashTest : public ::testing::TestWithParam<CrashCase> {};

TEST_P(CrashTest, KilledWritersLeaveConsistentImagesWithFlushedData) {
  const CrashCase& c = GetParam();
  if (find_format(c.format) == nullptr) GTEST_SKIP() << c.format << " is not in this build";
  // A SIGKILL loses no page cache: a memory file system tests the same orderings, with free
  // fdatasyncs.
  TempDir dir("/dev/shm");
  std::mt19937_64 rng(0xc0ffee ^ std::hash<std::string>()(c.name));
  // How the kills landed, printed at the end: evidence that they hit varied points.
  int with_leaks = 0;
  int with_unflushed_data = 0;
  int mid_run = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    const uint64_t seed = rng();
    SCOPED_TRACE("kill " + std::to_string(kill) + ", seed " + std::to_string(seed));
    const std::string path = dir.file("image");
    std::filesystem::remove(path);
    std::vector<uint8_t> durable(c.size, 0);
    CreateOptions create;
    create.path = path;
    create.size = c.size;
    create.options = c.options;
    if (c.with_backing) {
      const std::string backing = dir.file("backing");
      std::filesystem::remove(backing);
      CreateOptions base = create;
      base.path = backing;
      ASSERT_TRUE(create_image(c.format, base).ok());
      OpenOptions options;
      options.format = c.format;
      auto image = open_image(backing, options);
      ASSERT_TRUE(image.ok());
      std::mt19937_64 fill(seed);
      durable = cella::testing::random_bytes(fill, c.size);
      ASSERT_TRUE((*image)->write(0, durable).ok());
      create.backing_file = "backing";
      create.backing_format = c.format;
    }
    auto created = create_image(c.format, create);
    ASSERT_TRUE(created.ok()) << created.error().message();

    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    ::fcntl(pipe_fds[1], F_SETPIPE_SZ, 4096);  // keep the child close behind the parent
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      run_writer(path, c, seed, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);

    // Kill after a random number of messages, then a few random yields.
    const uint64_t kill_after = 1 + rng() % 120;
    std::vector<Op> unflushed;
    bool child_error = false;
    uint64_t received = 0;
    auto receive = [&](const Message& m) {
      if (m.type == MessageType::kError) {
        child_error = true;
      } else if (m.type == MessageType::kFlush) {
        for (const Op& op : unflushed) apply(op, seed, durable);
        unflushed.clear();
      } else {
        unflushed.push_back(Op{m.type, m.op, m.offset, m.length});
      }
    };
    Message m;
    while (received < kill_after && ::read(pipe_fds[0], &m, sizeof(m)) == sizeof(m)) {
      receive(m);
      ++received;
    }
    for (uint64_t i = rng() % 64; i > 0; --i) ::sched_yield();
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    mid_run += WIFSIGNALED(status) ? 1 : 0;
    while (::read(pipe_fds[0], &m, sizeof(m)) == sizeof(m)) receive(m);  // sent before dying
    ::close(pipe_fds[0]);
    ASSERT_FALSE(child_error) << "the writer failed an operation";

    // The crashed image opens (a read-write open repairs lazy refcounts) and checks consistent.
    OpenOptions options;
    options.format = c.format;
    auto image = open_image(path, options);
    ASSERT_TRUE(image.ok()) << image.error().message();
    auto report = (*image)->check(false);
    ASSERT_TRUE(report.ok()) << report.error().message();
    std::string messages;
    for (const auto& line : report->messages) messages += line + "\n";
    ASSERT_EQ(report->corruptions, 0u) << messages;

    // Flushed bytes read back; unflushed ones hold the old value or one an unflushed write wrote.
    std::vector<uint8_t> actual(c.size);
    ASSERT_TRUE((*image)->read(0, actual).ok());
    std::vector<std::vector<uint8_t>> unflushed_data;
    for (const Op& op : unflushed) {
      unflushed_data.push_back(op.type == MessageType::kZeroes ? std::vector<uint8_t>(op.length, 0)
                                                               : op_data(seed, op.op, op.length));
    }
    with_unflushed_data += actual != durable ? 1 : 0;
    constexpr uint64_t kBlock = 4096;
    for (uint64_t start = 0; start < c.size; start += kBlock) {
      const uint64_t end = std::min(c.size, start + kBlock);
      if (std::memcmp(&actual[start], &durable[start], end - start) == 0) continue;
      for (uint64_t b = start; b < end; ++b) {
        if (actual[b] == durable[b]) continue;
        bool explained = false;
        for (size_t i = 0; i < unflushed.size() && !explained; ++i) {
          const Op& op = unflushed[i];
          explained = b >= op.offset && b < op.offset + op.length &&
                      unflushed_data[i][b - op.offset] == actual[b];
        }
        ASSERT_TRUE(explained) << "byte " << b << " reads " << int(actual[b]) << ", flushed value "
                               << int(durable[b]) << ", " << unflushed.size()
                               << " unflushed writes";
      }
    }
    // Leaks are repairable, and the repaired image is clean.
    if (report->leaks > 0) {
      ++with_leaks;
      auto repaired = (*image)->check(true);
      ASSERT_TRUE(repaired.ok()) << repaired.error().message();
      EXPECT_EQ(repaired->leaks + repaired->corruptions, 0u);
    }
  }
  std::printf("%s: %d kills (%d mid-run), %d left leaks, %d showed unflushed writes\n", c.name,
              kKills, mid_run, with_leaks, with_unflushed_data);
}

INSTANTIATE_TEST_SUITE_P(Formats, CrashTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<CrashCase>& param) {
                           return std::string(param.param.name);
                         });

}  // namespace
}  // namespace cella::block
