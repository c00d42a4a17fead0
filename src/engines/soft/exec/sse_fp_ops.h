// The basic SSE arithmetic operations on the host (sse_fp.h), shared by the groups that build
// on them (sse_arith_fp.cc, sse41_fp.cc's DPPS/DPPD).
#pragma once

#include "engines/soft/exec/sse_fp.h"

namespace cella::soft::fp_ops {

CELLA_HOST_SSE(HostAddps, "addps");
CELLA_HOST_SSE(HostAddpd, "addpd");
CELLA_HOST_SSE(HostAddss, "addss");
CELLA_HOST_SSE(HostAddsd, "addsd");
CELLA_HOST_SSE(HostSubps, "subps");
CELLA_HOST_SSE(HostSubpd, "subpd");
CELLA_HOST_SSE(HostSubss, "subss");
CELLA_HOST_SSE(HostSubsd, "subsd");
CELLA_HOST_SSE(HostMulps, "mulps");
CELLA_HOST_SSE(HostMulpd, "mulpd");
CELLA_HOST_SSE(HostMulss, "mulss");
CELLA_HOST_SSE(HostMulsd, "mulsd");
CELLA_HOST_SSE(HostDivps, "divps");
CELLA_HOST_SSE(HostDivpd, "divpd");
CELLA_HOST_SSE(HostDivss, "divss");
CELLA_HOST_SSE(HostDivsd, "divsd");

using K = FpKind;
using AddPs = Ranged<HostAddps, float, float, 4, K::kAdd>;
using AddPd = Ranged<HostAddpd, double, double, 2, K::kAdd>;
using AddSs = Ranged<HostAddss, float, float, 1, K::kAdd>;
using AddSd = Ranged<HostAddsd, double, double, 1, K::kAdd>;
using SubPs = Ranged<HostSubps, float, float, 4, K::kSub>;
using SubPd = Ranged<HostSubpd, double, double, 2, K::kSub>;
using SubSs = Ranged<HostSubss, float, float, 1, K::kSub>;
using SubSd = Ranged<HostSubsd, double, double, 1, K::kSub>;
using MulPs = Ranged<HostMulps, float, float, 4, K::kMul>;
using MulPd = Ranged<HostMulpd, double, double, 2, K::kMul>;
using MulSs = Ranged<HostMulss, float, float, 1, K::kMul>;
using MulSd = Ranged<HostMulsd, double, double, 1, K::kMul>;
using DivPs = Ranged<HostDivps, float, float, 4, K::kDiv>;
using DivPd = Ranged<HostDivpd, double, double, 2, K::kDiv>;
using DivSs = Ranged<HostDivss, float, float, 1, K::kDiv>;
using DivSd = Ranged<HostDivsd, double, double, 1, K::kDiv>;

}  // namespace cella::soft::fp_ops
