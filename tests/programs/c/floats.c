// Floating point through SSE (float, double) and the x87 (long double): arithmetic,
// conversions, rounding modes, special values, printf/strtod round trips and libm.
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static volatile double dv;  // defeats constant folding

static double harmonic(int n) {
  double s = 0;
  for (int i = 1; i <= n; ++i) s += 1.0 / i;
  return s;
}

static long double series_e(void) {
  long double e = 1, term = 1;
  for (int i = 1; i < 30; ++i) e += term /= i;
  return e;
}

int main(void) {
  printf("harmonic(2e5) = %.17g\n", harmonic(200000));
  float f = 0;
  for (int i = 0; i < 20000; ++i) f += 0.1f;
  printf("float sum %.9g\n", f);
  printf("long double e = %.21Lg, pi = %.21Lg\n", series_e(), 4 * atanl(1.0L));
  printf("sqrtl(2) = %.21Lg\n", sqrtl(2.0L));

  const double samples[] = {0.0, -0.0, 1e-310, 0.5, 1.0, 2.5, -3.75, 1e300, 123456.789};
  for (size_t i = 0; i < sizeof samples / sizeof samples[0]; ++i) {
    dv = samples[i];
    double v = dv;
    printf("%a %.17g %e | %lld %d | %.9g\n", v, v, v, (long long)v, (int)(float)v, (float)v);
  }
  dv = 0;
  double zero = dv;
  printf("specials: %f %f %f %d %d\n", 1 / zero, -1 / zero, zero / zero, isnan(zero / zero),
         isinf(1 / zero));
  printf("limits: %a %a %a\n", DBL_MAX, DBL_MIN, DBL_EPSILON);

  const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
  const char* names[] = {"nearest", "upward", "downward", "toward zero"};
  for (int m = 0; m < 4; ++m) {
    fesetround(modes[m]);
    dv = 1.0;
    double third = dv / 3;
    dv = -2.5;
    printf("%-11s 1/3=%.17g rint(-2.5)=%g lrint(2.5)=%ld float %.9g\n", names[m], third, rint(dv),
           lrint(-dv), (float)third);
  }
  fesetround(FE_TONEAREST);
  feclearexcept(FE_ALL_EXCEPT);
  dv = 1e308;
  double big = dv * 10;
  printf("overflow raised %d, inexact %d, value %g\n", fetestexcept(FE_OVERFLOW) != 0,
         fetestexcept(FE_INEXACT) != 0, big);

  const char* texts[] = {"3.14159265358979323846",
                         "1e-320",
                         "0x1.fffffffffffffp1023",
                         "-0.000001",
                         "2.2250738585072011e-308",
                         "nan",
                         "-inf"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; ++i) {
    double parsed = strtod(texts[i], NULL);
    printf("strtod(%s) = %.17g %a\n", texts[i], parsed, parsed);
  }

  const double x[] = {0.1, 0.5, 1.0, 2.0, 10.0, 100.5};
  for (size_t i = 0; i < sizeof x / sizeof x[0]; ++i) {
    double v = x[i];
    printf("x=%g sin %.15g cos %.15g tan %.15g exp %.15g log %.15g pow %.15g\n", v, sin(v), cos(v),
           tan(v), exp(v), log(v), pow(v, 1.7));
    printf("   atan2 %.15g sqrt %.15g cbrt %.15g fmod %.15g floor %g ceil %g round %g\n",
           atan2(v, 3), sqrt(v), cbrt(v), fmod(v * 7, 3), floor(v), ceil(v), round(v * 3));
  }
  long double acc = 0;
  for (int i = 1; i < 500; ++i) acc += sinl((long double)i) / i;
  printf("sum sin(i)/i = %.18Lg\n", acc);
  return 0;
}
