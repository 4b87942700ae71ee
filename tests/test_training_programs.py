"""Training programs: shipped files parse, a malformed file gets one line naming file and field, the
timeline runner changes step on exact samples however the stream is chunked, and pausing replays a rep."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emgfeedback.cli import main
from emgfeedback.errors import ProgramError
from emgfeedback.feedback import State
from emgfeedback.training.program import all_programs, load_program
from emgfeedback.training.rules import RepEvaluator
from emgfeedback.training.runner import ProgramRunner
from emgfeedback.training.timeline import Phase, build_timeline

SHIPPED = {"underbutt-isolation", "glute-bridge-hold", "camel", "wheel-hold", "standing-backbend", "first-week"}

GOOD = """
title = "Mine"
[[exercise]]
name = "Lift"
position = "Face down."
feel = "The crease firms."
mistake = "Clenching."
work_s = 5
rest_s = 5
reps = 2
[exercise.bands]
hamstring = [30, 50]
[exercise.success]
min_pct = 60
hamstring = "in"
glute_max = "not_over"
"""


def test_shipped_programs_parse_and_first_week_combines_them() -> None:
    programs = {p.name: p for p in all_programs()}
    assert set(programs) >= SHIPPED
    iso = programs["underbutt-isolation"].exercises[0]
    assert (iso.reps, iso.work_s) == (5, 10.0)
    assert iso.success.conditions == (("hamstring", "in"), ("glute_max", "not_over"))
    week = programs["first-week"]
    names = [e.name for e in week.exercises]
    order = ["underbutt-isolation", "glute-bridge-hold", "camel", "wheel-hold", "standing-backbend"]
    assert names == [programs[n].exercises[0].name for n in order]
    assert week.exercises[1].position == programs["glute-bridge-hold"].exercises[0].position
    assert week.exercises[1].work_s == 15.0  # overridden


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("work_s = 5", 'work_s = "five"'), "exercise[0].work_s"),
        (("reps = 2", "reps = 0"), "exercise[0].reps"),
        (("hamstring = [30, 50]", "hamstring = [50, 30]"), "exercise[0].bands.hamstring"),
        (('hamstring = "in"', 'hamstring = "inside"'), "exercise[0].success.hamstring"),
        (("min_pct = 60", "min_pct = 160"), "exercise[0].success.min_pct"),
        (('position = "Face down."\n', ""), "exercise[0].position"),
        (('title = "Mine"', 'titel = "Mine"'), "titel"),
        (("rest_s = 5", "rest_s = 1"), "exercise[0].rest_s"),
    ],
)
def test_malformed_program_is_one_line_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str], field: str
) -> None:
    path = tmp_path / "mine.toml"
    assert change[0] in GOOD
    path.write_text(GOOD.replace(change[0], change[1], 1))
    with pytest.raises(ProgramError) as err:
        load_program(str(path))
    text = str(err.value)
    assert "\n" not in text and str(path) in text and repr(field) in text
    assert main(["programs", "show", str(path)]) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and repr(field) in lines[0]


def test_user_folder_program_and_json_listing(emg_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = emg_home / "programs"
    folder.mkdir(exist_ok=True)
    (folder / "mine.toml").write_text(GOOD)
    assert main(["programs", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert SHIPPED | {"mine"} <= set(rows)
    mine = rows["mine"]
    assert {"name", "title", "duration_s", "exercises"} <= set(mine)
    # 10 s setup + 3 s countdown + 5 s work + (5 - 3) s rest + 3 s countdown + 5 s work
    assert mine["duration_s"] == pytest.approx(28.0)
    assert mine["exercises"] == ["Lift"]
    assert main(["programs", "show", "mine"]) == 0
    assert "success:  >= 60 % of the rep with hamstring in band and glute_max not over" in capsys.readouterr().out


def test_unknown_program_names_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["programs", "show", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no training program named 'nope'" in err and "underbutt-isolation" in err


def _walk(runner: ProgramRunner, sizes: list[int], total: int) -> list[tuple[int, str]]:
    out, pos, k = [], 0, 0
    out.append((runner.begin(0).index, runner.step.phase.value))
    while pos < total:
        n = sizes[k % len(sizes)]
        out += [(t.index, t.after.phase.value) for t in runner.advance(pos, n)]
        pos += n
        k += 1
    return out


def test_runner_changes_step_on_exact_samples_whatever_the_chunking() -> None:
    program = load_program("underbutt-isolation")
    timeline = build_timeline(program)
    fs = 500.0
    total = round(timeline.duration_s * fs) + 10
    expected = [(round(s.start_s * fs), s.phase.value) for s in timeline.steps]
    for sizes in ([1], [7, 13], [250], [5000]):
        assert _walk(ProgramRunner(timeline, fs), sizes, total) == expected
    works = timeline.work_steps()
    assert [w.start_s for w in works] == [13.0, 33.0, 53.0, 73.0, 93.0]  # 10 s setup + 3 s countdown, then every 20 s


def test_pause_during_a_rep_abandons_it_and_replays_its_countdown() -> None:
    timeline = build_timeline(load_program("underbutt-isolation"))
    runner = ProgramRunner(timeline, 100.0)
    runner.begin(0)
    runner.advance(0, 1500)  # 15 s: in the first rep
    assert runner.step.phase is Phase.WORK
    tr = runner.pause(1500)
    assert tr is not None and tr.aborted and tr.after.phase is Phase.READY
    assert runner.advance(1500, 10_000) == []  # frozen while paused
    runner.resume(11_500)
    changes = runner.advance(11_500, 400)
    assert [(t.index, t.after.phase) for t in changes] == [(11_800, Phase.WORK)]  # the 3 s countdown again


def test_rep_rule_counts_samples_meeting_every_condition() -> None:
    program = load_program("underbutt-isolation")
    names = ["glute_max_left", "hamstring_left", "glute_max_right", "hamstring_right"]
    ev = RepEvaluator(program.exercises[0].success, names)
    st = np.full((100, 4), int(State.IN), dtype=np.int8)
    st[:25, 0] = State.OVER  # glute over for a quarter: 75 % good
    st[90:, 3] = State.BELOW  # right hamstring below for a tenth: 65 % good
    ev.update(st)
    r = ev.result()
    assert r.pct == pytest.approx(65.0) and r.success is False


def test_from_refers_to_a_program_and_refuses_circles(emg_home: Path) -> None:
    folder = emg_home / "programs"
    folder.mkdir(exist_ok=True)
    (folder / "a.toml").write_text('title = "A"\n[[exercise]]\nfrom = "b"\n')
    (folder / "b.toml").write_text('title = "B"\n[[exercise]]\nfrom = "a"\n')
    (folder / "c.toml").write_text('title = "C"\n[[exercise]]\nfrom = "nothing-here"\n')
    with pytest.raises(ProgramError, match="in a circle"):
        load_program("a")
    with pytest.raises(ProgramError, match=r"field 'exercise\[0\]\.from' names 'nothing-here'"):
        load_program("c")
    from emgfeedback.training.program import loadable_programs

    programs, errors = loadable_programs()
    assert {p.name for p in programs} >= SHIPPED and len(errors) == 3
