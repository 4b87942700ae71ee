"""BrainFlow boards as a source: the synthetic board and the playback-file board (no streaming board: it multicasts)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from lsl_util import monitor_json, wait_for

pytest.importorskip("brainflow")

from brainflow.board_shim import BoardIds, BoardShim, BrainFlowInputParams
from brainflow.data_filter import DataFilter

from emgfeedback.errors import SourceError
from emgfeedback.io.brainflow_source import BrainflowSource, board_id, parse_spec
from emgfeedback.io.spec import open_source

SYNTHETIC = int(BoardIds.SYNTHETIC_BOARD.value)


def read_until_end(source: BrainflowSource, timeout: float = 30.0) -> list:
    chunks = []
    deadline = time.monotonic() + timeout
    with pytest.raises(EOFError):
        while time.monotonic() < deadline:
            chunk = source.read(0.1)
            if chunk is not None:
                chunks.append(chunk)
    return chunks


@pytest.fixture
def playback_file(tmp_path: Path) -> Path:
    """About a second of the synthetic board, written with BrainFlow's own DataFilter.write_file."""
    BoardShim.disable_board_logger()
    board = BoardShim(SYNTHETIC, BrainFlowInputParams())
    board.prepare_session()
    board.start_stream()
    try:
        wait_for(lambda: board.get_board_data_count() >= 250, 20, "a second of synthetic data")
        data = board.get_board_data()
    finally:
        board.stop_stream()
        board.release_session()
    path = tmp_path / "synthetic.csv"
    DataFilter.write_file(data, str(path), "w")
    return path


def test_spec_parsing() -> None:
    assert parse_spec("cyton?serial_port=COM3") == ("cyton", {"serial_port": "COM3"})
    assert parse_spec("playback?file=a.csv&master_board=cyton") == ("playback", {"file": "a.csv", "master_board": "cyton"})
    assert board_id("synthetic") == SYNTHETIC
    assert board_id("playback") == int(BoardIds.PLAYBACK_FILE_BOARD.value)
    assert board_id("cyton_daisy") == int(BoardIds.CYTON_DAISY_BOARD.value)
    with pytest.raises(SourceError, match="not a BrainFlow board"):
        board_id("toaster")
    with pytest.raises(SourceError, match="BrainFlowInputParams"):
        BrainflowSource("synthetic?colour=red").open()


def test_synthetic_board_as_brainflow_states_it() -> None:
    source = open_source("brainflow:synthetic")
    assert isinstance(source, BrainflowSource)
    source.open()
    try:
        emg = BoardShim.get_emg_channels(SYNTHETIC)
        assert source.info.fs == BoardShim.get_sampling_rate(SYNTHETIC)
        assert source.info.channels == len(emg)
        assert source.info.names == tuple(f"ch{r}" for r in emg)
        assert source.info.units == "uV"
        chunks = []

        def enough() -> bool:
            chunk = source.read(0.1)
            if chunk is not None:
                chunks.append(chunk)
            return sum(c.samples.shape[0] for c in chunks) >= 250

        wait_for(enough, 20, "a second of samples")
    finally:
        source.close()
    assert [c.start for c in chunks[1:]] == [c.stop for c in chunks[:-1]]  # consecutive, from 0
    assert chunks[0].start == 0 and source.stats.lost == 0
    assert 0.0 <= source.device_delay_s < 1.0  # measured from BrainFlow's timestamp column
    assert all(c.samples.shape[1] == len(emg) for c in chunks)


def test_playback_file_replays_the_file_exactly(playback_file: Path) -> None:
    source = BrainflowSource(f"playback?file={playback_file}")
    source.open()
    try:
        chunks = read_until_end(source)
    finally:
        source.close()
    recorded = DataFilter.read_file(str(playback_file))
    emg = BoardShim.get_emg_channels(SYNTHETIC)
    samples = np.vstack([c.samples for c in chunks])
    np.testing.assert_array_equal(samples, recorded[emg].T)
    assert source.info.fs == BoardShim.get_sampling_rate(SYNTHETIC) and source.stats.lost == 0


def test_package_counter_gives_the_lost_count(playback_file: Path, tmp_path: Path) -> None:
    recorded = DataFilter.read_file(str(playback_file))
    damaged = np.delete(recorded, np.s_[100:105], axis=1)  # five packages lost on the way
    path = tmp_path / "damaged.csv"
    DataFilter.write_file(damaged, str(path), "w")
    source = BrainflowSource(f"playback?file={path}&master_board=synthetic")
    source.open()
    try:
        chunks = read_until_end(source)
    finally:
        source.close()
    assert source.stats.lost == 5
    assert source.stats.gaps == [(100, 5)]
    after = next(c for c in chunks if c.start > 100)
    assert after.start == 105 and after.samples[0, 0] == recorded[1, 105]


def test_monitor_json_on_the_synthetic_board() -> None:
    summary = monitor_json("brainflow:synthetic", 2)
    assert summary["fs"] == BoardShim.get_sampling_rate(SYNTHETIC)
    assert summary["channels"] == len(BoardShim.get_emg_channels(SYNTHETIC))
    assert summary["lost"] == 0 and summary["frames"] > 200 and summary["protocol"] == "brainflow"
