"""The sound output behind the cues: one miniaudio stream that mixes the cue sounds, no Qt.

miniaudio ships its native code inside its wheel on Windows (WASAPI), macOS (Core Audio)
and Linux (PulseAudio/ALSA, loaded at run time), so the cues need no QtMultimedia and no
system audio package. Opening fails cleanly when there is no back end or no device; the
caller then runs muted. ``EMGFEEDBACK_AUDIO`` picks the output: ``auto`` (default), ``off``
(never open a device) or ``null`` (miniaudio's null device: samples go nowhere, in real time).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np

AUDIO_ENV = "EMGFEEDBACK_AUDIO"
MODES = ("auto", "off", "null")
#: Period of the output stream: a cue starts at most this long after it is queued.
PERIOD_MS = 10


@dataclass(frozen=True)
class OutputProbe:
    """Whether a sound output opened, through which back end, or why not."""

    ok: bool
    backend: str | None = None
    error: str | None = None


def audio_mode(requested: str | None = None) -> str:
    """The output mode: ``requested``, else ``EMGFEEDBACK_AUDIO``, else ``auto`` (unknown values mean auto)."""
    mode = (requested or os.environ.get(AUDIO_ENV) or "auto").strip().lower()
    return mode if mode in MODES else "auto"


_alsa_handler: object | None = None


def _quiet_alsa() -> None:
    """Stop libasound printing a page of config errors on a machine with no sound card (Linux only)."""
    global _alsa_handler  # noqa: PLW0603 - the C callback must outlive this call
    if not sys.platform.startswith("linux") or _alsa_handler is not None:
        return
    name = ctypes.util.find_library("asound")
    if name is None:
        return
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
    _alsa_handler = handler_type(lambda *_args: None)
    lib.snd_lib_error_set_handler(_alsa_handler)


@dataclass
class Voice:
    """One queued sound; ``done`` is set once its last sample has been handed to miniaudio."""

    samples: np.ndarray
    queued_at: float
    pos: int = 0
    done: threading.Event = field(default_factory=threading.Event)


class AudioOutput:
    """A running mono float32 stream; :meth:`play` queues samples, the device thread mixes them.

    ``latencies_s`` records, per sound, the time from :meth:`play` to the callback that hands its
    first sample to miniaudio (the device's own buffer of ``period_ms`` comes after that).
    """

    def __init__(self, rate: int, *, mode: str = "auto", period_ms: int = PERIOD_MS) -> None:
        import miniaudio

        self.rate = rate
        self.period_ms = period_ms
        self.volume = 1.0
        self.latencies_s: deque[float] = deque(maxlen=1000)
        self._pending: deque[Voice] = deque()
        self._lock = threading.Lock()
        backends = [miniaudio.Backend.NULL] if mode == "null" else None
        _quiet_alsa()
        self._device = miniaudio.PlaybackDevice(
            output_format=miniaudio.SampleFormat.FLOAT32,
            nchannels=1,
            sample_rate=rate,
            buffersize_msec=period_ms,
            backends=backends,
            app_name="emgfeedback",
        )
        self.backend: str = self._device.backend
        if self.backend == "Null" and mode != "null":
            self._device.close()
            raise RuntimeError("only miniaudio's null device is available (no sound card or sound server)")
        stream = self._mix()
        next(stream)
        self._device.start(stream)

    def play(self, samples: np.ndarray) -> Voice:
        """Queue one sound; it starts in the next device period. Safe from any thread."""
        voice = Voice(np.asarray(samples, dtype=np.float32), time.perf_counter())
        with self._lock:
            self._pending.append(voice)
        return voice

    def close(self) -> None:
        self._device.close()

    def _mix(self) -> Generator[bytes, int, None]:
        """The device thread's generator: sent a frame count, yields that many mixed samples."""
        active: list[Voice] = []
        frames = yield b""
        while True:
            out = np.zeros(frames, dtype=np.float32)
            with self._lock:
                while self._pending:
                    active.append(self._pending.popleft())
            now = time.perf_counter()
            for voice in active:
                if voice.pos == 0:
                    self.latencies_s.append(now - voice.queued_at)
                part = voice.samples[voice.pos : voice.pos + frames]
                out[: part.size] += part
                voice.pos += part.size
            for voice in active:
                if voice.pos >= voice.samples.size:
                    voice.done.set()
            active = [v for v in active if v.pos < v.samples.size]
            np.clip(out * self.volume, -1.0, 1.0, out=out)
            frames = yield out.tobytes()


def open_output(rate: int, mode: str | None = None) -> tuple[AudioOutput | None, str]:
    """Open the sound output, or return (None, why not) in one short phrase; never raises."""
    mode = audio_mode(mode)
    if mode == "off":
        return None, f"sound off ({AUDIO_ENV}=off)"
    try:
        import miniaudio  # noqa: F401 - a missing wheel is reported, not raised
    except ImportError as exc:
        return None, f"no audio library (miniaudio does not load: {exc}; reinstall emgfeedback)"
    try:
        return AudioOutput(rate, mode=mode), ""
    except Exception as exc:  # noqa: BLE001 - miniaudio raises its own error type for every device failure
        return None, f"no sound device ({exc.args[0] if exc.args else exc})"


def probe_output(rate: int = 44100) -> OutputProbe:
    """Open and close the output once: what ``doctor`` reports."""
    output, why = open_output(rate)
    if output is None:
        return OutputProbe(ok=False, error=why)
    backend = output.backend
    output.close()
    return OutputProbe(ok=True, backend=backend)
