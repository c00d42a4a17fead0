#include "engines/soft/jit/code_region.h"

#include <sys/mman.h>
#include <unistd.h>

namespace cella::soft::jit {

CodeRegion::CodeRegion(size_t size) : size_(size) {
  const int fd = memfd_create("cella-translated-code", MFD_CLOEXEC);
  if (fd < 0) return;
  if (ftruncate(fd, static_cast<off_t>(size)) == 0) {
    void* rw = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    void* rx = mmap(nullptr, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (rw != MAP_FAILED && rx != MAP_FAILED) {
      writable_ = static_cast<uint8_t*>(rw);
      executable_ = static_cast<const uint8_t*>(rx);
    } else {
      if (rw != MAP_FAILED) munmap(rw, size);
      if (rx != MAP_FAILED) munmap(rx, size);
    }
  }
  close(fd);  // the mappings keep the memory
}

CodeRegion::~CodeRegion() {
  if (writable_ == nullptr) return;
  munmap(writable_, size_);
  munmap(const_cast<uint8_t*>(executable_), size_);
}

const uint8_t* CodeRegion::commit(size_t bytes) {
  const uint8_t* code = executable_ + used_;
  used_ += (bytes + 15) & ~size_t{15};  // 16-byte aligned entries
  if (used_ > size_) used_ = size_;
  return code;
}

}  // namespace cella::soft::jit
