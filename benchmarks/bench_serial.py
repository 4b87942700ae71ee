"""Serial input: decoder throughput, and a real-time pty stream through SerialSource.

Throughput: each decoder (our frames at 4 channels, OpenEEG P2, text lines of 4 numbers)
decodes a large pre-encoded buffer fed in the chunk size the reader hands it (10 ms of
a 1 kHz stream; one 64-byte USB packet for P2), median of 5 runs, in frames per second.

Stream: ``simulate-device`` (a separate process, like a board) streams 4 channels at 1 kHz
over a pty for EMGFEEDBACK_BENCH_SECONDS (default 60) s; SerialSource reads it while the
main thread consumes chunks as the acquisition thread does. Figures: lost frames (target
0) and the reader thread's CPU time as a percentage of one core (target <= 5 %).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from benchmarks import Figure, median_time
from emgfeedback.io.protocol import Decoder

FRAMES = 100_000


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _throughput(make: Callable[[], Decoder], chunks: list[bytes], frames: int) -> float:
    """Frames per second decoding ``chunks`` with a fresh decoder, median of 5 runs."""

    def once() -> None:
        decoder = make()
        total = 0
        for c in chunks:
            total += len(decoder.feed(c))
        assert total >= frames - 2, total

    return frames / median_time(once, repeats=5, warmup=1)


def _decoders() -> Iterator[Figure]:
    from emgfeedback.io.frame_protocol import FrameDecoder, encode_frames
    from emgfeedback.io.p2_protocol import P2Decoder, encode_packets
    from emgfeedback.io.text_protocol import TextDecoder

    rng = np.random.default_rng(0)
    x = rng.integers(0, 1024, (FRAMES, 4))
    frame = encode_frames(0, x)
    yield Figure("decode_frame_4ch_150B_chunks", _throughput(FrameDecoder, _chunks(frame, 150), FRAMES), "frames/s")
    # bulk decoding (a backlog after a stall, replay of a capture): the vectorized path's throughput
    yield Figure("decode_frame_4ch_64KiB_chunks", _throughput(FrameDecoder, _chunks(frame, 65536), FRAMES), "frames/s")
    p2 = encode_packets(0, rng.integers(0, 1024, (FRAMES, 6)))
    yield Figure("decode_p2_64B_chunks", _throughput(P2Decoder, _chunks(p2, 64), FRAMES), "frames/s")
    text = b"".join(b"%d,%d,%d,%d\r\n" % tuple(row) for row in x.tolist())
    size = len(text) * 10 // FRAMES  # about 10 lines
    yield Figure("decode_text_4ch_10line_chunks", _throughput(TextDecoder, _chunks(text, size), FRAMES), "frames/s")


def _stream(seconds: float) -> Iterator[Figure]:
    from emgfeedback.io.serial_source import SerialSource

    root = Path(__file__).resolve().parent.parent
    device = subprocess.Popen(
        [sys.executable, "-m", "emgfeedback", "simulate-device", "--channels", "4", "--fs", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    try:
        assert device.stdout is not None
        if not select.select([device.stdout], [], [], 30.0)[0]:
            raise RuntimeError("simulate-device printed no path within 30 s")
        path = device.stdout.readline().decode().strip()
        source = SerialSource(path)
        source.open()
        try:
            cpu0, t0 = source.reader_cpu_seconds, time.monotonic()
            samples = 0
            while time.monotonic() - t0 < seconds:
                chunk = source.read(0.05)
                if chunk is not None:
                    samples += chunk.samples.shape[0]
            wall = time.monotonic() - t0
            cpu = source.reader_cpu_seconds - cpu0
            stats = source.stats
        finally:
            source.close()
    finally:
        device.send_signal(signal.SIGTERM)
        try:
            device.wait(10.0)
        except subprocess.TimeoutExpired:
            device.kill()
            device.wait()
    label = f"pty_4ch_1kHz_{seconds:g}s"
    yield Figure(f"{label}_lost_frames", stats.lost, "frames")
    yield Figure(f"{label}_rejected_frames", stats.rejected, "frames")
    yield Figure(f"{label}_received_samples", samples, f"samples (expected about {1000 * wall:,.0f})")
    yield Figure(f"{label}_reader_cpu", 100.0 * cpu / wall, "% of one core")


def run() -> Iterator[Figure]:
    yield from _decoders()
    yield from _stream(float(os.environ.get("EMGFEEDBACK_BENCH_SECONDS", "60")))
