// The complete form table: every semantics group's forms, in one list the decoder is built from.
#include <vector>

#include "engines/soft/exec/common.h"

namespace cella::soft {

std::span<const FormSpec> all_forms() {
  static const std::vector<FormSpec> forms = [] {
    using Group = std::span<const FormSpec> (*)();
    // clang-format off
    static constexpr Group kGroups[] = {
        &alu_forms,
        &data_forms,
        &control_forms,
        &misc_forms,
        &shift_forms,
        &muldiv_forms,
        &bit_forms,
        &bmi_forms,
        &string_forms,
        &atomic_forms,
        &x87_arith_forms,
        &x87_compare_forms,
        &x87_control_forms,
        &x87_load_store_forms,
        &x87_state_forms,
        &x87_transcendental_forms,
        &system_control_forms,
        &system_segment_forms,
        &system_transfer_forms,
        &system_io_forms,
        &sse_move_forms,
        &sse_state_forms,
        &sse_arith_fp_forms,
        &sse_compare_forms,
        &sse_convert_forms,
        &sse_int_forms,
        &sse_shift_forms,
        &sse_shuffle_forms,
        &ssse3_forms,
        &sse41_forms,
        &sse41_fp_forms,
        &mmx_forms,
    };
    // clang-format on
    std::vector<FormSpec> all;
    for (Group group : kGroups) {
      const auto forms_of_group = group();
      all.insert(all.end(), forms_of_group.begin(), forms_of_group.end());
    }
    return all;
  }();
  return forms;
}

}  // namespace cella::soft
