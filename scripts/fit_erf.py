#!/usr/bin/env python3
"""Fits the rational erf approximation of runtime/ops.cpp (`gelu_rows`):

    erf(x) ~= x * P(x^2) / Q(x^2)  for |x| < CLIP,  sign(x) beyond,  Q(0) = 1,

by iteratively reweighted linear least squares on Chebyshev-spaced points of [0, CLIP]
(absolute error). Prints the coefficients and the worst error of a float32 evaluation with
FMA, which is how the runtime evaluates it. Needs numpy and scipy; not used by the build.
"""
import numpy as np
from scipy.special import erf

CLIP, P_DEGREE, Q_DEGREE = 3.8, 6, 4


def fit(clip, p_degree, q_degree, iterations=30):
    x = np.cos(np.linspace(0, np.pi, 20000)) * clip / 2 + clip / 2
    x = x[x > 1e-6]
    u, f = x * x, erf(x)
    weight = np.ones_like(x)
    for _ in range(iterations):
        # x P(u) - f (Q(u) - 1) = f, weighted by 1 / Q(u) of the previous iterate.
        a = np.hstack([x[:, None] * u[:, None] ** np.arange(p_degree + 1),
                       -f[:, None] * u[:, None] ** np.arange(1, q_degree + 1)]) * weight[:, None]
        sol, *_ = np.linalg.lstsq(a, f * weight, rcond=None)
        p, q = sol[:p_degree + 1], np.concatenate([[1.0], sol[p_degree + 1:]])
        weight = 1 / np.abs(np.polyval(q[::-1], u))
    return p, q


def erf_float32(p, q, x):
    """float32 Horner steps with one rounding each (FMA), as the runtime's loop."""
    x = x.astype(np.float32)
    u = (x.astype(np.float64) * x).astype(np.float32)
    def horner(c):
        acc = np.float32(c[-1])
        for a in c[-2::-1]:
            acc = (acc.astype(np.float64) * u + np.float32(a)).astype(np.float32)
        return acc
    r = (x * (horner(p) / horner(q)).astype(np.float32)).astype(np.float32)
    return np.where(np.abs(x) >= CLIP, np.sign(x), r).astype(np.float32)


p, q = fit(CLIP, P_DEGREE, Q_DEGREE)
xs = np.linspace(-6, 6, 2000001).astype(np.float32).astype(np.float64)
print("P:", ", ".join("%.9e" % c for c in p))
print("Q:", ", ".join("%.9e" % c for c in q[1:]))
print("max |erf error| in float32: %.2e" % np.max(np.abs(erf_float32(p, q, xs) - erf(xs))))
