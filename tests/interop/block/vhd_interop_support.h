// The VHD/VHDX interoperability tests run qemu-img and qemu-io through interop_util.h; these
// check that a run succeeded, showing what it printed when not.
#pragma once

#include <gtest/gtest.h>

#include "interop_util.h"

namespace cella::block::testing {

using interop::describe;
using interop::parse_json;
using interop::qemu_img;
using interop::qemu_io;
using interop::RunResult;

#define EXPECT_RUNS(run_result)                                                 \
  do {                                                                          \
    const ::cella::interop::RunResult cella_run = (run_result);                 \
    EXPECT_EQ(cella_run.exit_code, 0) << ::cella::interop::describe(cella_run); \
  } while (0)
#define ASSERT_RUNS(run_result)                                                 \
  do {                                                                          \
    const ::cella::interop::RunResult cella_run = (run_result);                 \
    ASSERT_EQ(cella_run.exit_code, 0) << ::cella::interop::describe(cella_run); \
  } while (0)

}  // namespace cella::block::testing
