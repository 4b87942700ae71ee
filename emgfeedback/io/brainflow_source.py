"""Read a BrainFlow board as a source: ``brainflow:BOARD[?key=value&...]``.

``BOARD`` is a BrainFlow board name in lower case (``synthetic``, ``cyton``, ``ganglion``, ``cyton_daisy``,
``playback`` for the playback-file board ...); the keys are BrainFlowInputParams fields (``serial_port=COM3``,
``file=rec.csv``, ``master_board=cyton``). The channels are the board's EMG rows
(``BoardShim.get_emg_channels``), the rate is the board's, and the package counter column gives the lost count:
a jump in the counter is a gap of that many samples.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SourceError
from emgfeedback.io import extras
from emgfeedback.io.sources import Chunk, LeastDelay, Source

#: Our short names for BrainFlow boards whose enum name is longer than NAME_BOARD.
ALIASES = {"playback": "PLAYBACK_FILE_BOARD", "streaming": "STREAMING_BOARD"}
#: BrainFlowInputParams fields that are integers.
INT_FIELDS = {"ip_port", "ip_port_aux", "ip_port_anc", "ip_protocol", "timeout", "master_board"}
#: The package counter wraps at this value (BrainFlow boards count one byte).
COUNTER_MODULO = 256
#: A playback board that stays silent this long after its data has reached the end.
PLAYBACK_END_S = 2.0


def board_names() -> list[str]:
    """Every board name ``brainflow:`` accepts, lower case."""
    ids = extras.require("brainflow").BoardIds
    names = {m.name.removesuffix("_BOARD").lower() for m in ids if m.value >= -3}
    return sorted(names | set(ALIASES))


def board_id(name: str) -> int:
    """The BrainFlow board id of a lower-case board name."""
    ids = extras.require("brainflow").BoardIds
    key = ALIASES.get(name.lower(), f"{name.upper()}_BOARD")
    for candidate in (key, name.upper()):
        if candidate in ids.__members__:
            return int(ids[candidate].value)
    raise SourceError(
        f"brainflow:{name} is not a BrainFlow board: use e.g. synthetic, cyton, cyton_daisy, ganglion or playback "
        "(any BrainFlow board name in lower case)"
    )


def parse_spec(text: str) -> tuple[str, dict[str, str]]:
    """``BOARD?key=value&...`` -> (board name, params)."""
    board, _, query = text.partition("?")
    if not board:
        raise SourceError("brainflow: needs a board: use e.g. brainflow:synthetic or brainflow:cyton?serial_port=COM3")
    return board, dict(parse_qsl(query, keep_blank_values=True))


class BrainflowSource(Source):
    """A BrainFlow board session, streamed chunk by chunk."""

    def __init__(self, spec: str) -> None:
        super().__init__()
        self.spec = f"brainflow:{spec}"
        self.board_name, self.params = parse_spec(spec)
        self.board: Any = None
        self.board_id = 0
        self.master_id = 0
        self.rows: list[int] = []
        self.counter_row: int | None = None
        self.timestamp_row: int | None = None
        self._delay = LeastDelay()
        self._index = 0
        self._last_counter: int | None = None
        self._pending: deque[Chunk] = deque()
        self._last_data = 0.0
        self._seen_data = False

    def _input_params(self) -> Any:
        bf = extras.require("brainflow")
        params = bf.BrainFlowInputParams()
        for key, value in self.params.items():
            if not hasattr(params, key) or key.startswith("_") or key == "to_json":
                raise SourceError(f"{self.spec}: {key!r} is not a BrainFlowInputParams field: use e.g. serial_port, file")
            if key == "master_board":
                params.master_board = board_id(value) if not value.lstrip("-").isdigit() else int(value)
            elif key in INT_FIELDS:
                try:
                    setattr(params, key, int(value))
                except ValueError:
                    raise SourceError(f"{self.spec}: {key} must be a whole number, not {value!r}") from None
            else:
                setattr(params, key, value)
        return params

    def open(self) -> None:
        bf = extras.require("brainflow")
        self.board_id = board_id(self.board_name)
        params = self._input_params()
        playback = self.board_id == int(bf.BoardIds.PLAYBACK_FILE_BOARD.value)
        if playback:
            if not params.file:
                raise SourceError(f"{self.spec}: the playback board needs a file: add ?file=recording.csv")
            if "master_board" not in self.params:  # the board the file was recorded from
                params.master_board = int(bf.BoardIds.SYNTHETIC_BOARD.value)
        self.master_id = params.master_board if playback or self.params.get("master_board") else self.board_id
        bf.BoardShim.disable_board_logger()
        try:
            self.rows = list(bf.BoardShim.get_emg_channels(self.master_id))
            fs = float(bf.BoardShim.get_sampling_rate(self.master_id))
            try:
                self.counter_row = int(bf.BoardShim.get_package_num_channel(self.master_id))
            except bf.BrainFlowError:
                self.counter_row = None
            try:
                self.timestamp_row = int(bf.BoardShim.get_timestamp_channel(self.master_id))
            except bf.BrainFlowError:
                self.timestamp_row = None
            board = bf.BoardShim(self.board_id, params)
            board.prepare_session()
            board.start_stream(max(int(fs * 60), 1000))
        except bf.BrainFlowError as exc:
            raise SourceError(f"{self.spec}: BrainFlow could not start the board ({exc}): check the port or file") from None
        self.board = board
        if not self.rows:
            self.close()
            raise SourceError(f"{self.spec}: BrainFlow states no EMG channels for this board: pick an EMG-capable board")
        name = bf.BoardShim.get_device_name(self.master_id)
        self._info = StreamInfo(
            fs=fs,
            channels=len(self.rows),
            units="uV",
            channel_names=tuple(f"ch{r}" for r in self.rows),
            description=f"{self.spec} ({name})",
        )
        self._stop.clear()
        self._last_data = time.monotonic()

    @property
    def device_delay_s(self) -> float:
        """Measured: the least delay from BrainFlow's timestamp column (the board's receive time) to here."""
        return self._delay.value

    def _split(self, data: np.ndarray) -> None:
        """Queue ``data`` (rows x n) as consecutive chunks, a gap wherever the package counter skips."""
        samples = data[self.rows].T.astype(np.float64)
        if self.counter_row is None:
            self._pending.append(Chunk(self._index, samples))
            self._index += samples.shape[0]
            return
        counter = data[self.counter_row].astype(np.int64) % COUNTER_MODULO
        prev = counter[0] - 1 if self._last_counter is None else self._last_counter
        steps = np.diff(np.concatenate([[prev], counter])) % COUNTER_MODULO
        lost = np.where(steps == 0, 0, steps - 1)  # a repeated counter is a duplicate, not a loss
        cuts = np.flatnonzero(lost)
        begin = 0
        for cut in [*cuts.tolist(), samples.shape[0]]:
            if cut > begin:
                self._pending.append(Chunk(self._index, samples[begin:cut]))
                self._index += cut - begin
            if cut < samples.shape[0]:
                n_lost = int(lost[cut])
                self.stats.lost += n_lost
                self.stats.gaps.append((self._index, n_lost))
                self._index += n_lost
            begin = cut
        self._last_counter = int(counter[-1])

    def read(self, timeout: float = 0.1) -> Chunk | None:
        if self.board is None:
            self.open()
        if self._pending:
            return self._pending.popleft()
        bf = extras.require("brainflow")
        playback_board = self.board_id == int(bf.BoardIds.PLAYBACK_FILE_BOARD.value)
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                count = self.board.get_board_data_count()
                data = self.board.get_board_data(count) if count else None
            except bf.BrainFlowError as exc:
                raise SourceError(f"{self.spec}: BrainFlow stopped delivering ({exc}): check the board") from None
            now = time.monotonic()
            if data is not None and data.shape[1]:
                self._last_data, self._seen_data = now, True
                self.stats.frames += data.shape[1]
                if self.timestamp_row is not None and not playback_board:  # a playback file's stamps are old
                    self._delay.add(now, time.time() - float(data[self.timestamp_row, -1]))
                self._split(data)
                return self._pending.popleft() if self._pending else None
            if self._seen_data and playback_board and now - self._last_data > PLAYBACK_END_S:
                raise EOFError(f"{self.spec}: end of the playback file")
            if now >= deadline or self._stop.wait(min(0.01, max(deadline - now, 0.0))):
                return None

    def close(self) -> None:
        super().close()
        board, self.board = self.board, None
        if board is not None:
            bf = extras.require("brainflow")
            with contextlib.suppress(bf.BrainFlowError):
                board.stop_stream()
            board.release_session()
