"""CPU of ``live`` (offscreen dashboard) and ``record`` at 4 ch x 1 kHz from a virtual board on a pty.

Each run starts ``emgfeedback simulate-device`` (its own process, our frame protocol on a pty) and
then the command under test through ``benchmarks/cpu_child.py``, which measures 60 s after a 5 s
warm-up: the process CPU as % of one core, and its share per stage (decode: the serial reader
thread; chain and feedback: thread-CPU timers in the acquisition thread; storage: the session
writer thread; drawing: the Qt main thread; other: the rest, e.g. ring buffer and listeners).
Figures are medians of EMGFEEDBACK_BENCH_RUNS runs (default 3); EMGFEEDBACK_BENCH_ENVELOPE=adaptive measures a
profile with that estimator instead of the default. With EMGFEEDBACK_BENCH_BEFORE_REV
(a git revision, e.g. the branch point) the same runs are made on that revision's code, extracted
with ``git archive``, alternating with this tree so load on the machine hits both alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import Figure

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "cpu_child.py"
WARMUP_S = 5.0
STAGES = ("decode", "chain", "feedback", "storage", "drawing", "other")


def _env(tree: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(tree), EMGFEEDBACK_HOME=str(home), QT_QPA_PLATFORM="offscreen", CI="true")
    return env


def _make_profile(tree: Path, home: Path) -> None:
    """The demo profile, made by the tree under test: that tree's default estimator, or EMGFEEDBACK_BENCH_ENVELOPE's."""
    envelope = os.environ.get("EMGFEEDBACK_BENCH_ENVELOPE")
    spec = f"FilterSpec(envelope=Envelope({envelope!r}))" if envelope else "None"
    code = (
        "from dataclasses import replace\n"
        "from emgfeedback.calibration import demo_profile, save_profile\n"
        "from emgfeedback.config import Envelope, FilterSpec\n"
        f"save_profile(replace(demo_profile(4, {spec}), name='bench'))\n"
    )
    subprocess.run([sys.executable, "-c", code], env=_env(tree, home), cwd=home, check=True)  # cwd: not this tree


def _one(tree: Path, command: str, seconds: float) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="emgcpu"))
    _make_profile(tree, home)
    link = home / "board"
    device = subprocess.Popen(
        [sys.executable, "-m", "emgfeedback", "simulate-device", "--link", str(link), "--channels", "4", "--fs", "1000"],
        env=_env(ROOT, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert device.stdout is not None
        device.stdout.readline()  # the pty path: the device is up
        total = WARMUP_S + seconds + 2.0
        out = home / "cpu.json"
        args = ["--source", str(link), "--profile", "bench"]
        if command == "live":
            args = ["live", *args, "--quit-after", f"{total:g}"]
        else:
            args = ["record", *args, "--seconds", f"{total:g}", "--status-every", "0"]
        done = subprocess.run(
            [sys.executable, str(CHILD), str(out), str(WARMUP_S), str(seconds), "--", *args],
            env=_env(tree, home),
            cwd=home,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=total + 60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command} on {tree} failed: {done.stderr.strip().splitlines()[-1:]}")
        data = json.loads(out.read_text())
    finally:
        device.terminate()
        device.wait(timeout=10)
    a, b = data["before"], data["after"]
    wall = b["wall"] - a["wall"]
    cpu = b["cpu"] - a["cpu"]

    def thread(name: str) -> float:
        return b["threads"].get(name, 0.0) - a["threads"].get(name, 0.0)

    def timer(name: str) -> float:
        return b["timers"].get(name, 0.0) - a["timers"].get(name, 0.0)

    parts = {
        "decode": thread("emgfeedback-serial"),
        "chain": timer("chain"),
        "feedback": timer("feedback"),
        "storage": thread("emgfeedback-session-writer"),
        "drawing": thread("MainThread") if command == "live" else 0.0,
    }
    parts["other"] = max(cpu - sum(parts.values()), 0.0)
    frames = b["counts"].get("frames", 0) - a["counts"].get("frames", 0)
    samples = b["counts"].get("samples", 0) - a["counts"].get("samples", 0)
    result = {"cpu_pct": 100.0 * cpu / wall, "frames_per_s": frames / wall, "samples_per_s": samples / wall}
    result["lost"] = float(b["lost"] - a["lost"])
    result["refresh_ms"] = 1000.0 * timer("refresh") / frames if frames else 0.0
    for stage, value in parts.items():
        result[f"share_{stage}_pct"] = 100.0 * value / cpu if cpu else 0.0
    return result


def _before_tree(rev: str) -> Path:
    dest = Path(tempfile.mkdtemp(prefix="emgbefore"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def run() -> Iterator[Figure]:
    seconds = float(os.environ.get("EMGFEEDBACK_BENCH_SECONDS", "60"))
    runs = int(os.environ.get("EMGFEEDBACK_BENCH_RUNS", "3"))
    rev = os.environ.get("EMGFEEDBACK_BENCH_BEFORE_REV")
    trees = {"": ROOT}
    if rev:
        trees["before_"] = _before_tree(rev)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(runs):
        for command in ("live", "record"):
            for label, tree in trees.items():
                results.setdefault((label, command), []).append(_one(tree, command, seconds))
                time.sleep(1.0)
    for (label, command), rows in results.items():
        for key in rows[0]:
            if command == "record" and key in ("frames_per_s", "refresh_ms", "share_drawing_pct"):
                continue
            unit = "% of a core" if key == "cpu_pct" else ("%" if key.endswith("_pct") else key.rsplit("_", 1)[-1])
            unit = {"s": "per s", "lost": "samples", "ms": "ms"}.get(unit, unit)
            yield Figure(f"{label}{command}_{key}", statistics.median(r[key] for r in rows), unit)
