"""Adaptive-window RMS: a growing average on steady holds, restarted by a change-point test on jumps.

A moving RMS trades speed for calm with one number, its window. This estimator lets the data
choose the window (the idea of Clancy 1999, made sequential): the mean square is averaged over
every 5 ms block since the last change of level, up to ``max_window_s``, so a steady hold is
averaged over seconds (calm). Two one-sided CUSUM tests (Page 1954) on the chi-square
likelihood of each block watch for the level moving up or down by a factor ``ratio``; when one
fires, the window restarts at the test's own change-point estimate, so the new level is known
from the blocks since the jump and nothing older (quick). A test restarts the window only once its
segment spans 50 ms, and the tests for a fall have a lower bar than those for a rise (a fall carries
less evidence per block): both keep steady holds calm; the price is a floor of about 50 ms on large
steps, which used to be caught in a block or two. Between jumps this is the posterior
mean of a piecewise-constant level, which is what Sanger's (2007) Bayesian filter approximates
with a diffusion + jump prior.

The mean square is taken of the signal after an adaptive whitening filter (dsp.whitening, Clancy &
Farry 2000) of unit power gain: the same level, fewer correlated squares, so about 1.5x the degrees
of freedom per second, which is what both the change-point test and the standard error are limited by.

Besides the envelope it reports its own relative standard error, ``1 / sqrt(2 k n)`` for ``n``
blocks of ``k`` effective degrees of freedom, which the band decision turns into a hysteresis
(feedback.SequentialClassifier). Causal, vectorized across channels, and chunked equals one-shot
exactly (whole blocks are always summed from the same samples).
"""

from __future__ import annotations

import math

import numpy as np

from emgfeedback.dsp.filters import _as_2d
from emgfeedback.dsp.whitening import Whitener

#: Block length of the mean-square statistic (s): the output updates once a block.
BLOCK_S = 0.005
#: Effective chi-square degrees of freedom per second of the whitened band-passed sEMG (measured ~800/s on
#: the simulator's 30-250 Hz signal through the 20-450 Hz chain, against ~540/s unwhitened; kept a little lower).
DOF_PER_S = 750.0
#: Longest averaging window on a steady hold (s).
MAX_WINDOW_S = 2.0
#: The level changes (RMS ratios) the CUSUM tests are tuned to, each up and down: small ones
#: for steps near an edge, a large one so that a big jump is caught in a few blocks
#: (on the cues bench (1.2, 1.5, 2.0) beat (1.3, 2.0), (1.4, 2.0) and (1.15, 1.3, 1.6, 2.0)).
RATIOS = (1.2, 1.5, 2.0)
#: CUSUM alarm threshold of the tests for a rise (nats of evidence for a change).
THRESHOLD = 8.0
#: ... and of the tests for a fall: a fall of the same ratio carries less evidence per block (the chi-square
#: likelihood is skewed), so the down tests get a lower bar (on the cues bench, with MIN_SEGMENT_S, 7.25 against 8:
#: back-into-band p95 219 ms against 244 ms at 1.6 or fewer changes/min; 7 made one test hold flicker, 6.5 the 33 % hold).
DOWN_THRESHOLD = 7.25
#: A test's change-point segment must span this long before its alarm restarts the window (s): a block or two of
#: extreme chi-square values can reach the threshold alone, and the window they would restart on is short and
#: biased (most of the state flicker on steady holds came from such restarts).
MIN_SEGMENT_S = 0.05
#: From this many blocks in one call (offline arrays), the recursion runs per channel on Python floats.
SCALAR_BLOCKS = 32


class AdaptiveRMS:
    """sqrt(mean square since the last detected change of level), updated every block; see the module doc."""

    def __init__(
        self,
        fs: float,
        *,
        block_s: float = BLOCK_S,
        max_window_s: float = MAX_WINDOW_S,
        ratios: tuple[float, ...] = RATIOS,
        threshold: float = THRESHOLD,
        down_threshold: float = DOWN_THRESHOLD,
        min_segment_s: float = MIN_SEGMENT_S,
        dof_per_s: float = DOF_PER_S,
        whiten: bool = True,
    ) -> None:
        self.fs = fs
        self.block = max(round(block_s * fs), 1)
        self.max_blocks = max(round(max_window_s * fs / self.block), 1)
        self.threshold = threshold
        self.down_threshold = down_threshold
        self.min_blocks = float(max(round(min_segment_s * fs / self.block), 1))
        self.whitener = Whitener(fs) if whiten else None
        dof = max(dof_per_s * self.block / fs, 1.0)  # effective degrees of freedom of one block
        self.dof = dof
        # log-likelihood ratio of a block with r = m / E against a variance ratio q:
        # (dof/2) * (r * (1 - 1/q) - ln q); one test per ratio and direction
        q = np.array([x * x for x in ratios] + [1.0 / (x * x) for x in ratios])[:, None]
        self._slope = 0.5 * dof * (1.0 - 1.0 / q)
        self._offset = 0.5 * dof * np.log(q)
        self._thr = np.array([threshold] * len(ratios) + [down_threshold] * len(ratios))[:, None]
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next block starts a new window."""
        if self.whitener is not None:
            self.whitener.reset()
        self.tail: np.ndarray | None = None  # squared samples of the unfinished block
        self.mean_sq: np.ndarray | None = None  # E: the window's mean square
        self.count: np.ndarray | None = None  # n: blocks in the window (0 before the first)
        self.stat: np.ndarray | None = None  # (tests, channels) CUSUM statistics
        self.seg_sum: np.ndarray | None = None  # mean squares summed since each statistic was last zero
        self.seg_n: np.ndarray | None = None
        self.value: np.ndarray | None = None  # last output (envelope) and its relative error
        self.error: np.ndarray | None = None

    def _start(self, channels: int) -> None:
        z = np.zeros(channels)
        self.tail = np.zeros((0, channels))
        self.mean_sq, self.count = z.copy(), z.copy()
        tests = self._slope.shape[0]
        self.stat, self.seg_sum, self.seg_n = (np.zeros((tests, channels)) for _ in range(3))
        self.value, self.error = z.copy(), np.full(channels, np.inf)

    def _step(self, m: np.ndarray) -> None:
        """Advance every channel by one block of mean square ``m``."""
        assert self.mean_sq is not None and self.count is not None
        assert self.stat is not None and self.seg_sum is not None and self.seg_n is not None
        e = self.mean_sq
        stat = self.stat + self._slope * (m / np.maximum(e, 1e-300)) - self._offset
        # each test's segment restarts where its statistic was last at zero (the change-point estimate)
        going = self.stat > 0
        self.seg_sum = np.where(going, self.seg_sum + m, m)
        self.seg_n = np.where(going, self.seg_n + 1.0, 1.0)
        np.maximum(stat, 0.0, out=stat)
        self.stat = stat
        n = np.minimum(self.count + 1, self.max_blocks)
        e = e + (m - e) / n
        # a test fires beyond its threshold once its segment is long enough; the one furthest beyond
        # its threshold says where the jump was
        ready = self.seg_n >= self.min_blocks
        first = self.count == 0
        alarm = (ready & (stat > self._thr)).any(axis=0) | first
        if alarm.any():
            best = np.argmax(np.where(ready, stat / self._thr, -1.0), axis=0)
            cols = np.arange(m.shape[0])
            seg_sum = np.where(first, m, self.seg_sum[best, cols])
            seg_n = np.where(first, 1.0, self.seg_n[best, cols])
            e = np.where(alarm, seg_sum / seg_n, e)
            n = np.where(alarm, seg_n, n)
            for arr in (self.stat, self.seg_sum, self.seg_n):
                arr[:, alarm] = 0.0
        self.mean_sq, self.count = e, n

    def _run_scalar(self, means: np.ndarray, values: np.ndarray, errors: np.ndarray) -> None:
        """:meth:`_step` over many blocks, channel by channel on Python floats: the same IEEE operations in
        the same order (so bit-identical results), without numpy's per-call cost on 4-element arrays."""
        assert self.mean_sq is not None and self.count is not None
        assert self.stat is not None and self.seg_sum is not None and self.seg_n is not None
        slopes = self._slope[:, 0].tolist()
        offsets = self._offset[:, 0].tolist()
        thresholds = self._thr[:, 0].tolist()
        tests = range(len(slopes))
        cap, scale, min_n = float(self.max_blocks), 1.0 / math.sqrt(2.0 * self.dof), self.min_blocks
        for c in range(means.shape[1]):
            e, n = float(self.mean_sq[c]), float(self.count[c])
            stat = self.stat[:, c].tolist()
            seg_sum = self.seg_sum[:, c].tolist()
            seg_n = self.seg_n[:, c].tolist()
            col_v, col_e = [], []
            for m in means[:, c].tolist():
                r = m / max(e, 1e-300)
                for t in tests:
                    if stat[t] > 0:
                        seg_sum[t] += m
                        seg_n[t] += 1.0
                    else:
                        seg_sum[t], seg_n[t] = m, 1.0
                    stat[t] = max(stat[t] + slopes[t] * r - offsets[t], 0.0)
                first = n == 0
                n_new = min(n + 1, cap)
                e = e + (m - e) / n_new
                n = n_new
                if first or any(stat[t] > thresholds[t] and seg_n[t] >= min_n for t in tests):
                    score = [stat[t] / thresholds[t] if seg_n[t] >= min_n else -1.0 for t in tests]
                    best = score.index(max(score))  # np.argmax: the first of equal maxima
                    e, n = (m, 1.0) if first else (seg_sum[best] / seg_n[best], seg_n[best])
                    stat = [0.0] * len(stat)
                    seg_sum = [0.0] * len(stat)
                    seg_n = [0.0] * len(stat)
                col_v.append(math.sqrt(e))
                col_e.append(scale / math.sqrt(n))
            values[:, c] = col_v
            errors[:, c] = col_e
            self.mean_sq[c], self.count[c] = e, n
            self.stat[:, c], self.seg_sum[:, c], self.seg_n[:, c] = stat, seg_sum, seg_n

    def process_with_error(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Envelope and its relative standard error, both (samples, channels), held between block ends."""
        x = _as_2d(chunk)
        if self.whitener is not None:
            x = self.whitener.process(x)
        if self.tail is None:
            self._start(x.shape[1])
        assert self.tail is not None and self.value is not None and self.error is not None
        k = self.block
        done = self.tail.shape[0]
        buf = np.concatenate([self.tail, x * x])
        nb = buf.shape[0] // k
        means = buf[: nb * k].reshape(nb, k, x.shape[1]).sum(axis=1) / k
        self.tail = buf[nb * k :]
        values = np.empty((nb + 1, x.shape[1]))
        errors = np.empty((nb + 1, x.shape[1]))
        values[0], errors[0] = self.value, self.error
        scale = 1.0 / math.sqrt(2.0 * self.dof)
        if nb >= SCALAR_BLOCKS:
            self._run_scalar(means, values[1:], errors[1:])
        for j in range(nb if nb < SCALAR_BLOCKS else 0):
            self._step(means[j])
            assert self.mean_sq is not None and self.count is not None
            values[j + 1] = np.sqrt(self.mean_sq)
            errors[j + 1] = scale / np.sqrt(self.count)
        self.value, self.error = values[nb].copy(), errors[nb].copy()
        rows = (np.arange(done, buf.shape[0]) + 1) // k  # completed blocks at each sample of this chunk
        return values[rows], errors[rows]

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """The envelope alone (same units as the input)."""
        return self.process_with_error(chunk)[0]
