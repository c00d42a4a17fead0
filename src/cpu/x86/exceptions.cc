#include "cpu/x86/exceptions.h"

namespace cella::x86 {

const char* vector_mnemonic(Vector vector) {
  static constexpr const char* kNames[32] = {
      "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF(9)", "#TS",
      "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE",    "#CP",
      "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31"};
  const auto index = static_cast<unsigned>(vector);
  return index < 32 ? kNames[index] : "interrupt";
}

}  // namespace cella::x86
