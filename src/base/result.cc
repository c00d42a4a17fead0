#include "base/result.h"

#include <cerrno>
#include <cstring>

namespace cella {

Error errno_error(std::string_view what) {
  return Error(fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace cella
