// Differential tests: every form of the instruction table, run with random inputs on the host
// processor and on the software CPU; all general-purpose registers, defined flags, x87/SSE
// state, exceptions and the data area must match.
//
// Environment: CELLA_DIFF_CASES (per form, default 64), CELLA_DIFF_SEED, CELLA_DIFF_FILTER
// (substring of the mnemonic).
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>

#include "engines/soft/decoder/decoder.h"
#include "tests/diff/compare.h"
#include "tests/diff/form_instance.h"
#include "tests/diff/runners.h"

namespace cella::diff {
namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 0) : fallback;
}

TEST(Differential, EveryFormMatchesTheHost) {
  auto native = NativeRunner::create();
  ASSERT_NE(native, nullptr);
  SoftRunner soft;
  const soft::Decoder& decoder = soft::Decoder::instance();
  const uint64_t cases = env_or("CELLA_DIFF_CASES", 64);
  const uint64_t seed = env_or("CELLA_DIFF_SEED", 20261121);
  const char* filter = std::getenv("CELLA_DIFF_FILTER");

  size_t tested = 0, excluded = 0, failed_forms = 0;
  std::vector<std::string> unencodable;
  for (uint16_t form = 0; form < decoder.form_count(); ++form) {
    const soft::FormSpec& spec = decoder.form(form);
    if (filter != nullptr && std::string(spec.mnemonic).find(filter) == std::string::npos) continue;
    if (spec.has(soft::attr::kNoDiff)) {
      ++excluded;
      continue;
    }
    std::mt19937_64 rng(seed * 7919 + form);
    size_t reported = 0;
    bool any_instance = false;
    bool failed = false;
    for (uint64_t c = 0; c < cases; ++c) {
      const auto instance = make_instance(form, rng);
      if (!instance) continue;
      any_instance = true;
      const MachineState in = random_state(rng, *instance);
      const std::vector<uint8_t> data = random_data(rng, *instance, in);
      const Outcome expected = native->run(instance->bytes, in, data);
      const uint64_t undefined = soft.undefined_flags(instance->bytes, in);
      const Outcome actual = soft.run(instance->bytes, in, data);
      const auto diffs = compare(expected, actual, undefined);
      if (diffs.empty()) continue;
      failed = true;
      if (reported++ < 3) {
        std::string message = fmt::format("{} \"{}\" {} [{}]", spec.mnemonic, spec.opcode,
                                          spec.operands, hex(instance->bytes));
        for (const auto& d : diffs) message += "\n    " + d;
        ADD_FAILURE() << message;
      }
    }
    if (!any_instance)
      unencodable.push_back(fmt::format("{} \"{}\"", spec.mnemonic, spec.opcode));
    else
      ++tested;
    failed_forms += failed;
  }
  for (const auto& u : unencodable) ADD_FAILURE() << "no instance could be generated: " << u;
  std::printf(
      "differential coverage: %zu/%zu forms tested against the host (%zu excluded as "
      "not comparable, %zu failing), %llu cases each\n",
      tested, tested + unencodable.size(), excluded, failed_forms,
      static_cast<unsigned long long>(cases));
}

}  // namespace
}  // namespace cella::diff
