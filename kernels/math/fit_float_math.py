#!/usr/bin/env python3
"""Fits the polynomial coefficients in kernels/math/float_math.hpp.

Each is a minimax fit (Lawson's iteratively reweighted least squares on Chebyshev nodes)
against mpmath at 40 digits, of the error measure that matters for float32 results.
Run with Debian's /usr/bin/python3 (python3-numpy, python3-mpmath); paste the printed tables.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def nodes(a, b, n):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / n)


def minimax(xs, variable, degree, target, weight, iterations=60):
    """Coefficients c of sum c_k variable(x)^k minimising max |weight * (poly - target)|."""
    a = np.array([[variable(x) ** k for k in range(degree + 1)] for x in xs])
    t, w0 = np.array(target), np.array(weight)
    lawson = np.ones(len(xs)) / len(xs)
    for _ in range(iterations):
        w = np.sqrt(lawson) * w0
        c, *_ = np.linalg.lstsq(a * w[:, None], t * w, rcond=None)
        error = np.abs((a @ c - t) * w0)
        lawson = lawson * error
        lawson /= lawson.sum()
    return c, error.max()


def report(name, c, error, what):
    print(f"// {name}: {what} {error:.2e}")
    print("{" + ", ".join(f"{v:.9e}f" for v in c) + "}")


def main():
    half_ln2 = float(mp.log(2)) / 2
    r = nodes(-half_ln2, half_ln2, 400)
    c, e = minimax(r, lambda x: x, 5, [float((mp.exp(x) - 1 - x) / x**2) for x in r], [x * x / float(mp.exp(x)) for x in r])
    report("exp(r) = 1 + r + r^2 P(r), |r| <= ln2/2", c, e, "max relative error")

    f = nodes(np.sqrt(0.5) - 1, np.sqrt(2) - 1, 500)
    c, e = minimax(f, lambda x: x, 7, [float((mp.log(1 + x) - x + x * x / 2) / x**3) for x in f],
                   [abs(x**3 / float(mp.log(1 + x))) for x in f])
    report("log(1 + f) = f - f^2/2 + f^3 P(f), sqrt(1/2) <= 1 + f < sqrt(2)", c, e, "max relative error")

    x = nodes(1e-4, 0.625, 400)
    c, e = minimax(x, lambda v: v * v, 4, [float((mp.tanh(v) - v) / v**3) for v in x], [v**3 / float(mp.tanh(v)) for v in x])
    report("tanh(x) = x + x^3 P(x^2), |x| < 0.625", c, e, "max relative error")

    x = nodes(1e-4, 1.0, 400)
    c, e = minimax(x, lambda v: v * v, 6, [float(mp.erf(v) / v) for v in x], [v / float(mp.erf(v)) for v in x])
    report("erf(x) = x P(x^2), |x| < 1", c, e, "max relative error")

    x = nodes(1.0, 4.0, 600)
    c, e = minimax(x, lambda v: (1 / v - 0.625) / 0.375, 7, [float(mp.erfc(v) * mp.exp(v * v)) for v in x],
                   [float(mp.exp(-v * v)) for v in x])
    report("erfc(x) = exp(-x^2) Q(u), u = (1/x - 0.625) / 0.375, 1 <= x < 4", c, e, "max absolute error of erfc")

    print(f"// ln 2 split for exact argument reduction: 0.693359375 + {float(mp.log(2) - mp.mpf('0.693359375')):.9e}")


if __name__ == "__main__":
    main()
