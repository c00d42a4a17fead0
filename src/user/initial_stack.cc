#include "user/initial_stack.h"

#include "user/linux_abi.h"

namespace cella::user {

namespace {

class StackWriter {
 public:
  StackWriter(AddressSpace& space, uint64_t bottom, uint64_t top)
      : space_(space), bottom_(bottom), at_(top) {}

  // Pushes bytes; returns their address, or 0 when the stack is full.
  uint64_t push(const void* data, uint64_t size) {
    if (failed_ || at_ - bottom_ < size) {
      failed_ = true;
      return 0;
    }
    at_ -= size;
    if (!space_.copy_out(at_, data, size)) failed_ = true;
    return at_;
  }
  uint64_t push_string(const std::string& s) { return push(s.c_str(), s.size() + 1); }
  void align_down(uint64_t alignment) { at_ &= ~(alignment - 1); }
  void reserve(uint64_t bytes) {
    if (at_ - bottom_ < bytes) failed_ = true;
    at_ -= bytes;
  }
  uint64_t at() const { return at_; }
  bool failed() const { return failed_; }

 private:
  AddressSpace& space_;
  uint64_t bottom_;
  uint64_t at_;
  bool failed_ = false;
};

}  // namespace

Result<uint64_t> build_initial_stack(AddressSpace& space, uint64_t bottom, uint64_t top,
                                     const InitialStack& stack) {
  uint64_t string_bytes = stack.execfn.size() + 1;
  for (const auto& s : stack.argv) string_bytes += s.size() + 1;
  for (const auto& s : stack.envp) string_bytes += s.size() + 1;
  if (string_bytes > (top - bottom) / 4) {
    return make_error("arguments and environment ({} bytes) exceed a quarter of the stack",
                      string_bytes);
  }

  StackWriter w(space, bottom, top);
  const uint64_t end_marker = 0;
  w.push(&end_marker, sizeof end_marker);
  const uint64_t execfn = w.push_string(stack.execfn);
  std::vector<uint64_t> envp(stack.envp.size()), argv(stack.argv.size());
  for (size_t i = stack.envp.size(); i-- > 0;) envp[i] = w.push_string(stack.envp[i]);
  for (size_t i = stack.argv.size(); i-- > 0;) argv[i] = w.push_string(stack.argv[i]);
  const uint64_t platform = w.push_string(stack.platform);
  const uint64_t random = w.push(stack.random.data(), stack.random.size());
  w.align_down(16);

  std::vector<uint64_t> table;
  table.push_back(stack.argv.size());
  table.insert(table.end(), argv.begin(), argv.end());
  table.push_back(0);
  table.insert(table.end(), envp.begin(), envp.end());
  table.push_back(0);
  for (const auto& [type, value] : stack.auxv) {
    table.push_back(type);
    table.push_back(value);
  }
  const std::pair<uint64_t, uint64_t> pointers[] = {{abi::kAtRandom, random},
                                                    {abi::kAtExecfn, execfn},
                                                    {abi::kAtPlatform, platform},
                                                    {abi::kAtNull, 0}};
  for (const auto& [type, value] : pointers) {
    table.push_back(type);
    table.push_back(value);
  }
  // psABI 3.4.1: the stack pointer is 16-byte aligned at process entry, pointing at argc.
  const uint64_t bytes = table.size() * sizeof(uint64_t);
  w.reserve(bytes);
  w.align_down(16);
  const uint64_t sp = w.at();
  if (w.failed() || !space.copy_out(sp, table.data(), bytes)) {
    return make_error("the initial stack does not fit in {} bytes", top - bottom);
  }
  return sp;
}

}  // namespace cella::user
