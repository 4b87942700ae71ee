"""Batched acquisition (record): the same samples, states and gaps as chunk by chunk, in fewer passes."""

from __future__ import annotations

import numpy as np

from emgfeedback.calibration import demo_profile
from emgfeedback.config import Band
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.io.sources import Chunk
from emgfeedback.runtime.blocks import Block
from emgfeedback.runtime.live import LiveOptions, build_acquisition


class _Gappy(SimulatedSource):
    """The backbend scenario in 10-sample chunks (not real time) with 300 samples missing at 2000."""

    def read(self, timeout: float = 0.1) -> Chunk | None:
        chunk = super().read(timeout)
        if chunk is not None and 2000 <= chunk.start < 2300:
            return None  # dropped on the way
        if chunk is not None and chunk.start >= 12000:
            raise EOFError("done")
        return chunk


def _run(batch_s: float) -> tuple[list[Block], list[str]]:
    source = _Gappy("backbend-hold", channels=4, realtime=False, chunk_samples=10)
    acq = build_acquisition(source, LiveOptions(profile=demo_profile(4), band=Band(), batch_s=batch_s))
    blocks: list[Block] = []
    acq.add_listener(blocks.append)
    acq.start()
    assert acq.finished.wait(30)
    assert acq.error is None
    return blocks, [f"{e.kind}:{e.index}:{e.length}" for e in acq.drain_events() if e.kind == "gap"]


def test_batches_give_the_same_signal_states_and_gaps_in_fewer_blocks() -> None:
    one, gaps_one = _run(0.0)
    batched, gaps_batched = _run(0.1)
    assert gaps_batched == gaps_one == ["gap:2000:300"]
    assert len(batched) <= len(one) / 8  # ~10 chunks of 10 samples per 100 ms batch
    assert max(b.raw.shape[0] for b in batched) >= 100
    for field in ("raw", "percent"):
        np.testing.assert_allclose(
            np.concatenate([getattr(b, field) for b in batched]), np.concatenate([getattr(b, field) for b in one]), rtol=1e-9
        )
    np.testing.assert_array_equal(np.concatenate([b.states for b in batched]), np.concatenate([b.states for b in one]))
