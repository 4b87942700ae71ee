"""A multi-field ring buffer indexed by absolute sample number (one writer, many readers)."""

from __future__ import annotations

import threading

import numpy as np


class RingBuffer:
    """The last ``capacity`` samples of several (samples, channels) fields, e.g. raw and %MVC.

    The writer appends under a short lock (a memory copy); readers copy out what they
    need. ``index`` is the absolute number of samples ever written, so a reader asking
    for data older than the buffer holds learns how much it missed.
    """

    def __init__(self, capacity: int, channels: int, fields: tuple[str, ...]) -> None:
        if capacity < 1:
            raise ValueError(f"ring capacity {capacity} is too small: use at least 1 sample")
        self.capacity = capacity
        self.channels = channels
        self.fields = fields
        self._data = {f: np.full((capacity, channels), np.nan) for f in fields}
        self._index = 0
        self._lock = threading.Lock()

    @property
    def index(self) -> int:
        """Absolute index one past the newest sample."""
        return self._index

    def write(self, values: dict[str, np.ndarray], start: int | None = None) -> None:
        """Append one block for every field; a ``start`` past ``index`` leaves a NaN gap."""
        n = next(iter(values.values())).shape[0]
        with self._lock:
            if start is not None and start > self._index:
                self._fill_nan(start - self._index)
            for name, arr in values.items():
                self._put(self._data[name], self._index, arr)
            self._index += n

    def _fill_nan(self, n: int) -> None:
        m = min(n, self.capacity)
        for buf in self._data.values():
            self._put(buf, self._index + n - m, np.full((m, self.channels), np.nan))
        self._index += n

    def _put(self, buf: np.ndarray, start: int, arr: np.ndarray) -> None:
        n = arr.shape[0]
        if n >= self.capacity:
            arr, start, n = arr[-self.capacity :], start + n - self.capacity, self.capacity
        pos = start % self.capacity
        first = min(n, self.capacity - pos)
        buf[pos : pos + first] = arr[:first]
        buf[: n - first] = arr[first:]

    def latest(self, n: int, fields: tuple[str, ...] | None = None) -> tuple[int, dict[str, np.ndarray]]:
        """Copies of the newest ``n`` samples (fewer if not yet written) and the index of the first."""
        with self._lock:
            n = min(n, self._index, self.capacity)
            start = self._index - n
            return start, {f: self._get(self._data[f], start, n) for f in (fields or self.fields)}

    def newest(self, fields: tuple[str, ...]) -> tuple[int, dict[str, list[float]]]:
        """The newest sample of each field as a list per channel, and its index (-1 and empty lists before any):
        what a dashboard frame shows, without the copies of :meth:`latest`."""
        with self._lock:
            if self._index == 0:
                return -1, {f: [] for f in fields}
            pos = (self._index - 1) % self.capacity
            return self._index - 1, {f: self._data[f][pos].tolist() for f in fields}

    def latest_strided(self, n: int, step: int, fields: tuple[str, ...]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Every ``step``-th of the newest ``n`` samples, at absolute indices divisible by ``step``.

        Returns the absolute indices and the copies; cheap for long windows drawn on a screen.
        """
        with self._lock:
            n = min(n, self._index, self.capacity)
            start = self._index - n
            first = -(-start // step) * step
            idx = np.arange(first, self._index, step, dtype=np.int64)
            pos = idx % self.capacity
            return idx, {f: self._data[f][pos] for f in fields}

    def since(self, index: int, fields: tuple[str, ...] | None = None) -> tuple[int, int, dict[str, np.ndarray]]:
        """Everything from ``index`` on: (first index returned, samples missed, copies)."""
        with self._lock:
            oldest = max(self._index - self.capacity, 0)
            missed = max(oldest - index, 0)
            start = max(index, oldest)
            n = max(self._index - start, 0)
            return start, missed, {f: self._get(self._data[f], start, n) for f in (fields or self.fields)}

    def _get(self, buf: np.ndarray, start: int, n: int) -> np.ndarray:
        pos = start % self.capacity
        first = min(n, self.capacity - pos)
        return np.concatenate([buf[pos : pos + first], buf[: n - first]])
