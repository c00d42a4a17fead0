// The x87 as glibc and libm use it: long double arithmetic under every rounding mode and
// precision control, the long double libm functions (built on FSIN, FPATAN, FYL2X, F2XM1,
// FSCALE, FPREM, FRNDINT, FXTRACT...), conversions to and from integers, strtold and
// printf("%La"), classification of unusual encodings, the exception flags, and an unmasked
// x87 exception delivered as SIGFPE. Prints everything; run natively and under `cella user`.
#define _GNU_SOURCE
#include <fenv.h>
#include <float.h>
#include <fpu_control.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile long double vld;  // defeats constant folding
static volatile double vd;

static long double make(uint64_t significand, uint16_t sign_exponent) {
  long double x = 0;
  memcpy(&x, &significand, 8);
  memcpy((char*)&x + 8, &sign_exponent, 2);
  return x;
}

static void print_bits(const char* name, long double x) {
  uint64_t significand;
  uint16_t sign_exponent;
  memcpy(&significand, &x, 8);
  memcpy(&sign_exponent, (char*)&x + 8, 2);
  printf("%-12s %04x:%016llx %La\n", name, sign_exponent, (unsigned long long)significand, x);
}

static void functions(long double x) {
  printf("x=%La\n", x);
  printf("  sinl %La cosl %La tanl %La\n", sinl(x), cosl(x), tanl(x));
  printf("  asinl %La acosl %La atanl %La\n", asinl(x / 200), acosl(x / 200), atanl(x));
  printf("  atan2l %La hypotl %La\n", atan2l(x, 3.0L), hypotl(x, 3.0L));
  printf("  expl %La exp2l %La expm1l %La\n", expl(x / 8), exp2l(x / 8), expm1l(x / 8));
  printf("  logl %La log2l %La log10l %La log1pl %La\n", logl(fabsl(x)), log2l(fabsl(x)),
         log10l(fabsl(x)), log1pl(fabsl(x)));
  printf("  powl %La sqrtl %La cbrtl %La\n", powl(fabsl(x), 1.7L), sqrtl(fabsl(x)), cbrtl(x));
  printf("  fmodl %La remainderl %La\n", fmodl(x * 7, 3.0L), remainderl(x * 7, 3.0L));
  printf("  sinhl %La coshl %La tanhl %La\n", sinhl(x / 16), coshl(x / 16), tanhl(x / 16));
  printf("  erfl %La lgammal %La tgammal %La\n", erfl(x / 16), lgammal(fabsl(x) + 0.5L),
         tgammal(fabsl(x) / 8 + 0.5L));
  int exponent;
  long double integral;
  const long double mantissa = frexpl(x, &exponent);
  const long double fraction = modfl(x, &integral);
  printf("  frexpl %La %d ldexpl %La scalbnl %La modfl %La %La\n", mantissa, exponent,
         ldexpl(x, 100), scalbnl(x, -20000), fraction, integral);
  printf("  rintl %La nearbyintl %La truncl %La roundl %La floorl %La ceill %La\n", rintl(x),
         nearbyintl(x), truncl(x), roundl(x), floorl(x), ceill(x));
  printf("  lrintl %ld llrintl %lld logbl %La ilogbl %d\n", lrintl(x), llrintl(x), logbl(x),
         ilogbl(x));
}

static void conversions(long double x) {
  printf("%La -> int %d long %ld ulong %lu float %a double %a\n", x, (int)x, (long)x,
         (unsigned long)fabsl(x), (double)(float)x, (double)x);
}

// 1/3 + 1/7 under a control word; the "memory" clobbers keep the computation between the two
// control-word loads.
static long double divide_with(fpu_control_t cw) {
  fpu_control_t saved;
  _FPU_GETCW(saved);
  __asm__ __volatile__("fldcw %0" : : "m"(cw) : "memory");
  vld = 1;
  vld = vld / 3 + vld / 7;
  __asm__ __volatile__("fldcw %0" : : "m"(saved) : "memory");
  return vld;
}

static sigjmp_buf recover;
static void on_fpe(int signal, siginfo_t* info, void* context) {
  (void)context;
  printf("signal %d si_code %d\n", signal, info->si_code);
  siglongjmp(recover, 1);
}

int main(void) {
  // Arithmetic in every rounding mode (fesetround sets the x87 rounding control too).
  const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
  const char* names[] = {"nearest", "upward", "downward", "toward zero"};
  for (int m = 0; m < 4; ++m) {
    fesetround(modes[m]);
    vld = 1;
    const long double third = vld / 3;
    vld = 2;
    printf("%-11s 1/3 %La sqrt2 %La e %La pi %La rint(2.5) %La\n", names[m], third, sqrtl(vld),
           expl(1.0L), acosl(-1.0L), rintl(vld + 0.5L));
    vld = 1e4000L;
    printf("            overflow %La underflow %La\n", vld * vld, 1 / (vld * vld));
  }
  fesetround(FE_TONEAREST);

  // Precision control: the same division in single, double and extended precision.
  fpu_control_t initial;
  _FPU_GETCW(initial);
  const fpu_control_t precisions[] = {_FPU_SINGLE, _FPU_DOUBLE, _FPU_EXTENDED};
  const fpu_control_t roundings[] = {_FPU_RC_NEAREST, _FPU_RC_UP, _FPU_RC_DOWN, _FPU_RC_ZERO};
  for (int p = 0; p < 3; ++p) {
    for (int r = 0; r < 4; ++r) {
      const fpu_control_t cw =
          (initial & ~(_FPU_EXTENDED | _FPU_RC_ZERO)) | precisions[p] | roundings[r];
      printf("precision %d rounding %d: %La\n", p, r, divide_with(cw));
    }
  }

  const long double values[] = {0.0L,
                                -0.0L,
                                0.1L,
                                0.5L,
                                1.0L,
                                2.5L,
                                -3.75L,
                                10.0L,
                                100.5L,
                                1e30L,
                                -123456.789L,
                                0x1p-16400L,
                                3.14159265358979323846L};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; ++i) functions(values[i]);
  for (size_t i = 0; i < sizeof values / sizeof values[0]; ++i) conversions(values[i] * 1e9L);

  // Special and unusual encodings: classification and arithmetic.
  const long double odd[] = {
      make(0x8000000000000000, 0x7fff),  // infinity
      make(0xc000000000000000, 0xffff),  // the indefinite
      make(0x8000000000000001, 0x7fff),  // signalling NaN
      make(0x0000000000000001, 0x0000),  // smallest denormal
      make(0x8000000000000000, 0x0000),  // pseudo-denormal
      make(0x4000000000000000, 0x3fff),  // unnormal
      make(0x0000000000000000, 0x7fff),  // pseudo-infinity
  };
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; ++i) {
    vld = odd[i];
    const long double x = vld;
    feclearexcept(FE_ALL_EXCEPT);
    const long double sum = x + 1;
    printf("odd %zu: class %d isnan %d isinf %d signbit %d x+1 %La invalid %d denormal-ish %d\n", i,
           fpclassify(x), isnan(x), isinf(x), signbit(x) != 0, sum, fetestexcept(FE_INVALID) != 0,
           x != 0 && fabsl(x) < LDBL_MIN);
  }

  // strtold and printf round trips.
  const char* texts[] = {"3.14159265358979323846264338327950288",
                         "1e-4950",
                         "0x1.23456789abcdefp+16383",
                         "-0.000000000000000000001",
                         "1.18973149535723176502e+4932",
                         "nan",
                         "-inf"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; ++i) {
    const long double parsed = strtold(texts[i], NULL);
    printf("strtold(%s) = %.25Lg %La\n", texts[i], parsed, parsed);
  }
  print_bits("LDBL_MAX", LDBL_MAX);
  print_bits("LDBL_MIN", LDBL_MIN);
  print_bits("LDBL_EPSILON", LDBL_EPSILON);
  print_bits("LDBL_TRUE_MIN", LDBL_TRUE_MIN);

  // Integer <-> long double: FILD, FISTP, FISTTP at the edges of the ranges.
  const long long integers[] = {0, 1, -1, 9007199254740993LL, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < sizeof integers / sizeof integers[0]; ++i) {
    vld = (long double)integers[i];
    printf("int64 %lld -> %La -> %lld\n", integers[i], vld, (long long)vld);
  }
  vld = 18446744073709551615.0L;
  printf("uint64 max %La -> %llu\n", vld, (unsigned long long)vld);

  // Exception flags read back through fetestexcept (x87 status word and MXCSR).
  feclearexcept(FE_ALL_EXCEPT);
  vld = 0;
  const long double zero = vld;
  vld = 1 / zero;
  const long double infinity = vld;
  const int divbyzero = fetestexcept(FE_DIVBYZERO) != 0;
  const int invalid_before = fetestexcept(FE_INVALID) != 0;
  vld = zero / zero;
  const int invalid_after = fetestexcept(FE_INVALID) != 0;
  printf("1/0 %La divbyzero %d invalid %d, 0/0 %La invalid %d\n", infinity, divbyzero,
         invalid_before, vld, invalid_after);

  // double libm functions that use the x87 in glibc.
  for (double x = -7.5; x < 8; x += 2.25) {
    vd = x;
    printf("fmod %a remainder %a atan2 %a exp %a log %a\n", fmod(vd, 1.75), remainder(vd, 1.75),
           atan2(vd, 2), exp(vd), log(fabs(vd)));
  }

  // An unmasked x87 exception: #MF at the next waiting instruction, delivered as SIGFPE.
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_fpe;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGFPE, &action, NULL);
  if (sigsetjmp(recover, 1) == 0) {
    feenableexcept(FE_DIVBYZERO);
    vld = 0;
    vld = 1 / vld;
    printf("no signal: %La\n", vld);
  }
  fedisableexcept(FE_ALL_EXCEPT);
  feclearexcept(FE_ALL_EXCEPT);
  vld = 3;
  printf("after the signal: %La\n", vld / 7);
  return 0;
}
