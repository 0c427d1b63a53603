"""Change points in a nightly series, told apart from slow drift (standard library only).

E-divisive means (Matteson and James, 2014; the test Hunter/Otava use for
performance CI): the split that most separates the two sides' distributions,
kept when a permutation test says such a separation would be rare by chance,
then the same on each side. Each kept split is then classified:

  step   the values after it are not where a straight line through the values
         before it (Theil-Sen) would put them: something changed at that run;
  drift  they are: the series is moving steadily, and the split only marks
         where the divergence happened to be largest.

Each segment between steps is also tested for a monotonic trend
(Mann-Kendall), so a slow drift is reported as a drift, with its slope.
"""
import math
import random
import statistics


def _best_split(x, min_size):
    """The split tau of x with the largest E-divisive statistic (alpha = 1), and that statistic.

    O(n^2): moving one value at a time from the right side to the left updates
    the three sums of distances with one row of the distance matrix.
    """
    n = len(x)
    d = [[abs(u - v) for v in x] for u in x]
    within_a, within_b = 0.0, sum(d[i][j] for i in range(n) for j in range(i + 1, n))
    total = within_b
    best, where = -math.inf, None
    for tau in range(1, n - min_size + 1):
        t = tau - 1   # moves from the right side to the left
        row = d[t]
        within_a += sum(row[:t])
        within_b -= sum(row[t + 1:])
        if tau < min_size:
            continue
        na, nb = tau, n - tau
        between = total - within_a - within_b
        q = na * nb / n * (2.0 * between / (na * nb) - within_a / (na * (na - 1) / 2) - within_b / (nb * (nb - 1) / 2))
        if q > best:
            best, where = q, tau
    return where, best


def e_divisive(x, min_size=3, permutations=199, alpha=0.01, seed=1):
    """Indices i (0 < i < len(x)) where a new segment starts, in order."""
    rng = random.Random(seed)
    found = []

    def split(lo, hi):
        seg = list(x[lo:hi])
        if len(seg) < 2 * min_size:
            return
        tau, q = _best_split(seg, min_size)
        if tau is None:
            return
        exceed = 0
        for _ in range(permutations):
            shuffled = seg[:]
            rng.shuffle(shuffled)
            if _best_split(shuffled, min_size)[1] >= q:
                exceed += 1
        if (exceed + 1) / (permutations + 1) > alpha:
            return
        found.append(lo + tau)
        split(lo, lo + tau)
        split(lo + tau, hi)

    split(0, len(x))
    return sorted(found)


def theil_sen(x):
    """(slope, intercept) of the median line through (i, x[i])."""
    n = len(x)
    if n < 2:
        return 0.0, (x[0] if x else 0.0)
    slopes = [(x[j] - x[i]) / (j - i) for i in range(n) for j in range(i + 1, n)]
    slope = statistics.median(slopes)
    intercept = statistics.median(x[i] - slope * i for i in range(n))
    return slope, intercept


def mann_kendall(x):
    """(S, two-sided p) of the Mann-Kendall trend test, normal approximation (no tie correction)."""
    n = len(x)
    if n < 4:
        return 0, 1.0
    s = sum((x[j] > x[i]) - (x[j] < x[i]) for i in range(n) for j in range(i + 1, n))
    var = n * (n - 1) * (2 * n + 5) / 18.0
    z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var) if s < 0 else 0.0
    p = math.erfc(abs(z) / math.sqrt(2))
    return s, p


def _line_at(seg, at):
    slope, icept = theil_sen(seg)
    resid = [seg[i] - (icept + slope * i) for i in range(len(seg))]
    return icept + slope * at, resid


def is_step(x, tau, window=15, sigmas=5.0):
    """Whether the series jumps at tau: the lines through the values on each side (Theil-Sen,
    up to `window` values each) do not meet there, beyond `sigmas` standard errors.

    Five, not three: e-divisive puts its splits where the two sides look most
    different, so on a drifting series the noise at a split is the largest of
    many; a 10% step in 2% noise still stands at about 7 standard errors."""
    left, right = x[max(0, tau - window):tau], x[tau:tau + window]
    if len(left) < 3 or len(right) < 3:
        return True
    at_left, res_l = _line_at(left, len(left) - 0.5)     # both lines evaluated half a run from tau
    at_right, res_r = _line_at(right, -0.5)
    resid = res_l + res_r
    med = statistics.median(resid)
    sigma = statistics.median(abs(r - med) for r in resid) * 1.4826
    sigma = max(sigma, 1e-9 * max(abs(v) for v in left + right), 1e-12)
    # a fitted line's error at the end of its segment: about sigma * sqrt(4 / n)
    se = sigma * math.sqrt(4.0 / len(left) + 4.0 / len(right))
    return abs(at_right - at_left) > sigmas * se


def analyse(x, min_size=3, alpha=0.01, trend_alpha=0.01):
    """Steps, drifting splits and per-segment trends of a series.

    Returns {"steps": [i...], "drift_splits": [i...], "segments": [(lo, hi, slope, p)]},
    segments being the stretches between steps with their Theil-Sen slope per
    run and Mann-Kendall p-value (a trend when p < trend_alpha).
    """
    x = [float(v) for v in x]
    splits = e_divisive(x, min_size=min_size, alpha=alpha)
    steps = [t for t in splits if is_step(x, t)]
    drift = [t for t in splits if t not in steps]
    bounds = [0] + steps + [len(x)]
    segments = []
    for lo, hi in zip(bounds, bounds[1:]):
        seg = x[lo:hi]
        slope, _ = theil_sen(seg)
        _, p = mann_kendall(seg)
        segments.append((lo, hi, slope, p))
    return {"steps": steps, "drift_splits": drift, "segments": segments, "trend_alpha": trend_alpha}
