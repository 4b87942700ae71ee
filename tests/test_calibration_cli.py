"""``emgfeedback calibrate`` end to end: simulated runs without a keyboard, and profiles from a recording."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from emgfeedback.calibration import (
    CalibrationMachine,
    CalibrationPlan,
    Phase,
    auto_policy,
    available_protocols,
    load_profile,
)
from emgfeedback.calibration.terminal import TerminalPrompter
from emgfeedback.cli import main
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.io.simulated import MUSCLES

UCI = "uci_lowerlimb_4Npie_knee_flexion.txt"


def test_simulated_calibration_runs_to_completion(capsys: pytest.CaptureFixture[str], emg_home: Path) -> None:
    code = main(["calibrate", "--source", "simulated", "--name", "both sides, standard placement"])
    out = capsys.readouterr().out
    assert code == 0, out
    # no terminal: plain lines, one per prompt, and automatic decisions
    assert "\r" not in out
    assert "no keyboard" in out and "faster than real time" in out
    assert out.count("Push!") == 12 and out.count("Glute max, left: push in 3") == 3
    assert "saved profile 'both sides, standard placement'" in out
    profile = load_profile("both sides, standard placement")
    assert profile.muscles == {m: i for i, m in enumerate(MUSCLES)}
    assert profile.ok and profile.firmware == "simulated" and profile.source == "simulated"
    assert [p["id"] for p in profile.protocols] == ["glute_max", "hamstring"]
    path = emg_home / "profiles" / "both-sides-standard-placement.json"
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    for ref in profile.references:
        assert len(ref.trials) == 3 and ref.mvc > 50 * ref.noise


def test_calibration_in_a_subprocess_without_stdin(emg_home: Path) -> None:
    env = {**os.environ, "EMGFEEDBACK_HOME": str(emg_home)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emgfeedback",
            "calibrate",
            "--source",
            "simulated:calibration",
            "--channels",
            "2",
            "--name",
            "left side",
            "--trials",
            "2",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "saved profile 'left side'" in proc.stdout
    data = json.loads((emg_home / "profiles" / "left-side.json").read_text())
    assert list(data["muscles"]) == ["glute_max_left", "hamstring_left"]
    assert data["schema"] == 1 and data["fs"] == 1000.0 and data["filters"]["window_ms"] == 150.0


def test_a_person_who_never_pushes_is_reported_not_saved(capsys: pytest.CaptureFixture[str], emg_home: Path) -> None:
    code = main(
        [
            "calibrate",
            "--source",
            "simulated:rest",
            "--channels",
            "1",
            "--trials",
            "1",
            "--name",
            "lazy",
            "--max-attempts",
            "2",
            "--fast",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out.count("too weak") >= 2
    assert "repeating it automatically" in captured.out and "skipping it" in captured.out
    assert "nan" not in captured.out
    assert "Glute max, left (channel 0): no usable trial (noise " in captured.out and "): repeat its trials" in captured.out
    assert captured.err.startswith("emgfeedback: error: calibration not saved:") and captured.err.count("\n") == 1
    assert not (emg_home / "profiles" / "lazy.json").exists()


def test_custom_muscle_map_on_the_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "calibrate",
            "--source",
            "simulated",
            "--channels",
            "4",
            "--muscles",
            "hamstring_right=3,glute_max_left=0",
            "--trials",
            "1",
            "--name",
            "two",
            "--fast",
        ]
    )
    assert code == 0, capsys.readouterr()
    assert load_profile("two").muscles == {"glute_max_left": 0, "hamstring_right": 3}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--name", "x"], "give --source"),
        (["--source", "simulated", "--name", "x", "--muscles", "glute_max_left"], "write NAME=CHANNEL"),
        (["--source", "simulated", "--name", "x", "--muscles", "erector_left=0"], "no MVC protocol for muscle kind 'erector'"),
        (["--source", "/dev/nonexistent-port", "--name", "x", "--fast"], "--fast works only"),
    ],
)
def test_cli_errors_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--trials", "0"], "--trials 0 is out of range: use 1 to 10"),
        (["--trials", "11"], "--trials 11 is out of range: use 1 to 10"),
        (["--rest-between", "1"], "--rest-between 1 is shorter than the 3 s countdown that runs inside it: use --rest-between 3"),
        (["--rest-between", "0.5"], "--rest-between 0.5 is out of range: use 1 to 600 seconds"),
        (["--rest-between", "nan"], "--rest-between nan is out of range"),
        (["--muscles", "glute_max_left=7"], "glute_max_left is mapped to channel 7 but the simulated sensor has channels 0-3"),
        (["--name", ""], "the profile name is empty"),
        (["--name", "   "], "the profile name is empty"),
    ],
)
def test_bad_flags_are_named_before_anything_runs(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], emg_home: Path
) -> None:
    code = main(["calibrate", "--source", "simulated", "--name", "p1", "--fast", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("emgfeedback: error: ") and message in err and err.count("\n") == 1, err
    assert ".toml" not in err and "simulated channels" not in err  # the flag is blamed, not a protocol file
    assert out == ""  # refused up front: no plan printed, nothing measured
    assert not (emg_home / "profiles").exists() or not list((emg_home / "profiles").iterdir())


def test_from_recording_refuses_an_empty_name_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", "--from-recording", str(tmp_path / "missing.txt"), "--name", "", "--muscles", "hamstring_left"])
    assert code == 2 and "the profile name is empty" in capsys.readouterr().err


def test_from_recording_warns_about_a_name_that_is_not_a_known_muscle(
    real_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--from-recording", str(real_data / UCI), "--fs", "1000", "--columns", "1,3", "--mains", "60"]
    code = main(["calibrate", *argv, "--muscles", "hamstring_left,quad", "--name", "custom"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == (
        "warning: quad is not a known muscle (known: glute_max_left, hamstring_left, glute_max_right, hamstring_right): "
        "the profile keeps that name\n"
    )
    assert load_profile("custom").muscles == {"hamstring_left": 0, "quad": 1}
    assert main(["calibrate", *argv, "--muscles", "hamstring_left,hamstring_right", "--name", "known"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_replay_channels_need_a_muscle_map(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", "--source", f"replay:{real_data / UCI}", "--name", "x", "--fast"])
    err = capsys.readouterr().err
    assert code == 2 and "are not muscle names" in err and "--muscles" in err


def test_replay_too_short_for_the_protocol(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "calibrate",
            "--source",
            f"replay:{real_data / UCI}",
            "--columns",
            "1,3",
            "--muscles",
            "hamstring_left=0,hamstring_right=1",
            "--mains",
            "60",
            "--name",
            "x",
            "--fast",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "ended before the calibration finished" in err


def test_a_sensor_that_stops_streaming_is_reported(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from emgfeedback.commands import calibrate
    from emgfeedback.io import spec
    from emgfeedback.io.sources import Source

    class Silent(Source):
        def open(self) -> None:
            self._info = StreamInfo(fs=1000.0, channels=1, channel_names=("hamstring_left",))

        def read(self, timeout: float = 0.1) -> None:
            self._stop.wait(min(timeout, 0.02))

    monkeypatch.setattr(spec, "open_source", lambda *_a, **_k: Silent())
    monkeypatch.setattr(calibrate, "NO_DATA_S", 0.2)
    code = main(["calibrate", "--source", "/dev/ttyFAKE", "--name", "x"])
    err = capsys.readouterr().err
    assert code == 2 and "/dev/ttyFAKE: no data within 0.2 s: the sensor stopped streaming" in err


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_redraws_one_line_with_a_level_bar() -> None:
    """On a terminal the prompt is one line redrawn with \r: countdown, time left, bar, level."""
    plan = CalibrationPlan.build({"hamstring_left": 0}, available_protocols(), trials=1, rest_between_s=5.0)
    info = StreamInfo(fs=1000.0, channels=1)
    machine = CalibrationMachine(plan, FilterSpec(fs=1000.0), info, policy=auto_policy())
    out = FakeTerminal()
    screen = TerminalPrompter(out, interactive=False, units="counts")
    screen.REDRAW_S = 0.0
    screen.handle(machine, machine.start())
    while not machine.finished:
        level = 80.0 if machine.phase is Phase.CONTRACT else 1.0
        screen.handle(machine, machine.feed(np.full((500, 1), level)))
    screen.end_line()
    text = out.getvalue()
    assert "\rRest" in text and "\rHigh hamstring, left: push in 3" in text and "\rPush!" in text
    assert "[##############################]" in text  # full bar during the push
    assert "6.0 s" in text or "5.5 s" in text  # time left on the baseline
    assert "High hamstring, left, trial 1 (try 1): 80 counts, 80x rest: good" in text
    assert text.endswith("\n")


# --- from a recording ---------------------------------------------------------------------------------------
def reference_mvc_and_noise(path: Path, columns: list[int], fs: float, mains: float) -> tuple[np.ndarray, np.ndarray]:
    """An independent straightforward computation: offset, 4th-order 20-450 Hz Butterworth + mains notch
    (causal sosfilt), 150 ms moving RMS, then the highest 500 ms and quietest 1 s moving means."""
    data = np.genfromtxt(path, delimiter="\t", skip_header=7)
    data = data[~np.isnan(data[:, :4]).any(axis=1)][:, columns]
    x = data - data[0]
    sos = np.vstack(
        [
            signal.butter(4, [20.0, min(450.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos"),
            signal.tf2sos(*signal.iirnotch(mains, 30.0, fs=fs)),
        ]
    )
    y = signal.sosfilt(sos, x, axis=0)
    win = 150
    power = np.vstack([np.zeros((win - 1, y.shape[1])), y**2])
    rms = np.sqrt(np.stack([np.convolve(power[:, c], np.ones(win) / win, mode="valid") for c in range(y.shape[1])], axis=1))

    def moving_means(a: np.ndarray, n: int) -> np.ndarray:
        return np.stack([np.convolve(a[:, c], np.ones(n) / n, mode="valid") for c in range(a.shape[1])], axis=1)

    mvc = moving_means(rms, 500).max(axis=0)
    noise = moving_means(rms[win:], 1000).min(axis=0)
    return mvc, noise


def test_from_recording_matches_an_independent_reference(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = real_data / UCI
    code = main(
        [
            "calibrate",
            "--from-recording",
            str(path),
            "--fs",
            "1000",
            "--columns",
            "1,3",
            "--muscles",
            "hamstring_left,hamstring_right",
            "--mains",
            "60",
            "--envelope",
            "rms",  # the independent reference is a moving RMS
            "--name",
            "uci knee flexion",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    profile = load_profile("uci knee flexion")
    mvc, noise = reference_mvc_and_noise(path, [1, 3], 1000.0, 60.0)
    got_mvc = [profile.reference(m).mvc for m in ("hamstring_left", "hamstring_right")]
    got_noise = [profile.reference(m).noise for m in ("hamstring_left", "hamstring_right")]
    np.testing.assert_allclose(got_mvc, mvc, rtol=1e-6)
    np.testing.assert_allclose(got_noise, noise, rtol=1e-6)
    # the sidecar's rough estimates: BF bursts ~112-119 uV average (the 500 ms peak is higher), rests ~2-3 uV
    assert 0.12 < got_mvc[0] < 0.4 and 0.04 < got_mvc[1] < 0.15
    assert 0.001 < got_noise[0] < 0.005 and 0.001 < got_noise[1] < 0.005
    assert profile.units == "mV" and profile.filters.mains.value == "60"
    assert profile.muscles == {"hamstring_left": 0, "hamstring_right": 1}


def test_from_recording_profile_is_usable_on_a_replay_of_the_same_file(real_data: Path) -> None:
    from emgfeedback.config import FilterSpec
    from emgfeedback.io.replay import ReplaySource

    path = real_data / UCI
    assert (
        main(
            [
                "calibrate",
                "--from-recording",
                str(path),
                "--columns",
                "1,3",
                "--muscles",
                "hamstring_left,hamstring_right",
                "--mains",
                "60",
                "--name",
                "uci",
            ]
        )
        == 0
    )
    profile = load_profile("uci")
    source = ReplaySource(path, columns=[1, 3], realtime=False)
    source.open()
    profile.check_compatible(FilterSpec(fs=1000.0, mains="60"), source.info)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--columns", "1,3"], "name the muscle of each column with --muscles"),
        (["--columns", "1,3", "--muscles", "hamstring_left"], "--muscles names 1 muscle(s) for 2 columns"),
        (["--columns", "1,3", "--muscles", "hamstring_left,hamstring_left"], "muscle hamstring_left is named twice"),
        (["--columns", "1,3"], "e.g. --muscles hamstring_left,hamstring_right"),
        (["--columns", "1,9", "--muscles", "a,b"], "column 9 does not exist"),
        (["--columns", "1", "--muscles", "hamstring_left=1"], "one name per column"),
        (["--columns", "1", "--muscles", "hamstring_left", "--rest-seconds", "60"], "too short for a 60 s rest stretch"),
    ],
)
def test_from_recording_errors(real_data: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", "--from-recording", str(real_data / UCI), "--name", "x", *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_from_recording_without_a_contraction_is_refused(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # VM (column 2, a quadriceps) stays nearly silent during knee flexion: ~3x its quietest 3 s, no clear MVC
    code = main(
        [
            "calibrate",
            "--from-recording",
            str(real_data / UCI),
            "--columns",
            "2",
            "--muscles",
            "hamstring_left",
            "--mains",
            "60",
            "--rest-seconds",
            "3",
            "--name",
            "vm",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2, captured.out
    assert "no clear maximal contraction" in captured.err
