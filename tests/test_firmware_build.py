"""The firmware kept in step with the host: the shipped image is what the sketch builds to, the
protocol header's constants are the decoder's, and the simulator harness refuses bad options.

Needs the AVR toolchain (skips without it, fails in CI where scripts/test.sh installs it).
"""

from __future__ import annotations

import re
import resource
import subprocess
from pathlib import Path

import pytest
from test_firmware_sim import EMGSIM, FIRMWARE, _missing_toolchain

from emgfeedback.io import frame_format as fp

ROOT = Path(__file__).resolve().parents[1]
HEADER = FIRMWARE / "emgfeedback" / "emg_protocol.h"
SHIPPED = ROOT / "emgfeedback" / "firmware" / "emgfeedback-uno.hex"

pytestmark = pytest.mark.slow


def _defines() -> dict[str, str]:
    """``#define NAME VALUE`` lines of the protocol header, comments stripped."""
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    return {m[1]: m[2].strip() for m in re.finditer(r"^#define\s+(\w+)(?:\(\w+\))?\s+(.+)$", text, flags=re.M)}


def _value(text: str) -> int:
    """A header value as an int: 0x.. hex, decimal, or a 'c' character literal."""
    if text.startswith("'"):
        return ord(text[1])
    return int(text, 0)


def test_header_constants_are_the_decoders() -> None:
    d = _defines()
    assert bytes([_value(d["EMG_SYNC0"]), _value(d["EMG_SYNC1"])]) == fp.SYNC
    for name in ("START", "STOP", "INFO", "CHANNELS", "RATE"):
        assert bytes([_value(d[f"EMG_CMD_{name}"])]) == getattr(fp, f"CMD_{name}"), name
    assert _value(d["EMG_MIN_FS"]) == fp.MIN_FS
    assert _value(d["EMG_MAX_FS"]) == fp.MAX_FS
    assert _value(d["EMG_MAX_CHANNELS"]) == fp.MAX_CHANNELS
    assert _value(d["EMG_FLAG_OVERRUN"]) == fp.FLAG_OVERRUN
    assert _value(d["EMG_FLAG_START"]) == fp.FLAG_START
    assert _value(d["EMG_TYPE_DATA"]) == fp.TYPE_DATA << 4
    assert _value(d["EMG_TYPE_INFO"]) == fp.TYPE_INFO << 4
    assert _value(d["EMG_INFO_MAX_PAYLOAD"]) == fp.INFO_MAX_PAYLOAD
    length = d["EMG_DATA_FRAME_LEN"]  # "(7 + 2 * (n))"
    for n in range(1, fp.MAX_CHANNELS + 1):
        assert eval(length.replace("n", str(n)), {"__builtins__": {}}) == fp.data_frame_length(n)


@pytest.fixture(scope="module")
def toolchain() -> None:
    missing = _missing_toolchain()
    if missing:
        import os

        msg = f"AVR toolchain missing ({', '.join(missing)}): run scripts/test.sh, which installs it"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def test_a_clean_build_of_the_sketch_is_the_shipped_image(toolchain: None, tmp_path: Path) -> None:
    """`make hex` into an empty build folder gives, byte for byte, the image `emgfeedback flash` uploads."""
    build = tmp_path / "build"
    r = subprocess.run(
        ["make", "-C", str(FIRMWARE), "hex", f"BUILD={build}"], capture_output=True, text=True, timeout=600, check=False
    )
    assert r.returncode == 0, f"make hex failed:\n{r.stdout}\n{r.stderr}"
    built = (build / "emgfeedback.ino.hex").read_bytes()
    assert built == SHIPPED.read_bytes(), "the shipped hex is stale: run `make -C firmware bundle` and commit it"


@pytest.fixture(scope="module")
def emgsim(toolchain: None) -> Path:
    r = subprocess.run(["make", "-C", str(FIRMWARE), "sim"], capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return EMGSIM


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seconds", "abc"], "--seconds abc is not a number"),
        (["--seconds", "1e999"], "--seconds 1e999 is not a number"),
        (["--seconds", "-1"], "--seconds -1 is not a number"),
        (["--vref", "0"], "--vref 0 is not a whole number"),
        (["--vref", "5000mV"], "--vref 5000mV is not a whole number"),
        (["--backlog", "x"], "--backlog x is not a whole number"),
        (["--gen", "const:oops"], "--gen const: oops is not a number"),
        (["--drain-timeout", "nan"], "--drain-timeout nan is not a number"),
    ],
)
def test_harness_refuses_bad_options_with_one_line(emgsim: Path, args: list[str], message: str) -> None:
    r = subprocess.run([str(emgsim), *args, "firmware.elf"], capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode == 2
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_harness_out_of_memory_is_a_message_not_a_crash(emgsim: Path, tmp_path: Path) -> None:
    """A --wave file larger than the memory the harness may use ends it with 'out of memory', exit 1."""
    wave = tmp_path / "huge.txt"
    with wave.open("w") as f:
        f.write("1\n" * 20_000_000)  # 160 MB as doubles, under a 120 MB address-space limit

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (120 << 20, 120 << 20))

    r = subprocess.run(
        [str(emgsim), "--wave", str(wave), "--no-pty", "--out", str(tmp_path / "out.bin"), "firmware.elf"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=limit,
    )
    assert r.returncode == 1, r.stderr
    assert "emgsim: out of memory" in r.stderr
