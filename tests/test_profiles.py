"""Calibration profiles: round trip, compatibility refusals, corrupt files, storage, the demo profile, the CLI."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from emgfeedback.calibration import (
    CalibrationResult,
    MuscleReference,
    MuscleResult,
    Problem,
    Profile,
    ProfileError,
    Severity,
    delete_profile,
    demo_profile,
    list_profiles,
    load_profile,
    save_profile,
    scan_profiles,
    slugify,
)
from emgfeedback.calibration.protocol import builtin_protocols
from emgfeedback.cli import main
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.dsp import Pipeline
from emgfeedback.errors import SettingsError
from emgfeedback.io.simulated import MUSCLES, SimulatedSource, constant_script
from emgfeedback.runtime.live import channel_names

INFO = StreamInfo(fs=1000.0, channels=4, units="counts", channel_names=MUSCLES, firmware="emgfeedback 1.0")
SPEC = FilterSpec(fs=1000.0)


def make_result(**overrides: float) -> CalibrationResult:
    warn = Problem("inconsistent", Severity.WARN, "Glute max, left: trials differ by 22 %")
    muscles = tuple(
        MuscleResult(m, c, m, 0.8 + 0.01 * c, 80.0 + c, (78.0 + c, 80.0 + c), 0.025, (warn,) if c == 0 else ())
        for c, m in enumerate(MUSCLES)
    )
    if overrides:
        muscles = (replace(muscles[0], **overrides), *muscles[1:])
    return CalibrationResult(muscles, 1000.0, 100_000)


def make_profile(name: str = "both sides, standard placement") -> Profile:
    return Profile.from_result(name, make_result(), SPEC, INFO, protocols=list(builtin_protocols().values()))


def test_round_trip(emg_home: Path) -> None:
    profile = make_profile()
    path = save_profile(profile)
    assert path == emg_home / "profiles" / "both-sides-standard-placement.json"
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    loaded = load_profile("both sides, standard placement")
    assert loaded == profile and loaded.path == path
    assert load_profile("both-sides-standard-placement") == profile  # by slug
    assert load_profile(str(path)) == profile  # by path
    data = json.loads(path.read_text())
    assert data["format"] == "emgfeedback-profile" and data["schema"] == 1
    assert data["name"] == "both sides, standard placement" and data["created"]
    assert data["fs"] == 1000.0 and data["channels"] == 4 and data["units"] == "counts"
    assert data["filters"] == SPEC.to_dict() and data["firmware"] == "emgfeedback 1.0"
    assert data["muscles"]["hamstring_left"] == {
        "channel": 1,
        "mvc": 81.0,
        "noise": 0.81,
        "trials": [79.0, 81.0],
        "spread": 0.025,
        "verdicts": [],
    }
    assert data["muscles"]["glute_max_left"]["verdicts"][0]["code"] == "inconsistent"
    assert data["quality"] == {"ok": True, "messages": ["Glute max, left: trials differ by 22 %"]}
    assert [p["id"] for p in data["protocols"]] == ["glute_max", "hamstring"]
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]  # the temp file was renamed away


def test_overwrite_list_delete(emg_home: Path) -> None:
    save_profile(make_profile("standard"))
    save_profile(make_profile("standard"))  # recalibrating the same placement replaces it
    save_profile(make_profile("Left only"))
    assert [p.name for p in list_profiles()] == ["Left only", "standard"]
    with pytest.raises(ProfileError, match=r"already stored as standard\.json"):
        save_profile(make_profile("Standard!"))
    with pytest.raises(ProfileError, match="exists"):
        save_profile(make_profile("standard"), overwrite=False)
    assert delete_profile("left only").name == "left-only.json"
    assert [p.name for p in list_profiles()] == ["standard"]
    with pytest.raises(ProfileError, match=r"no profile named 'left only' \(known: 'standard'\)"):
        load_profile("left only")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("both sides, standard placement", "both-sides-standard-placement"),
        ("../../etc/passwd", "etc-passwd"),
        ("Café  Überweg", "cafe-uberweg"),
        ("???", "profile"),
        ("x" * 200, "x" * 60),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_normalizer_follows_the_channel_map() -> None:
    profile = make_profile()
    norm = profile.normalizer()
    np.testing.assert_allclose(norm.mvc, [80, 81, 82, 83])
    # live names the stream's channels through the profile's map; uncalibrated channels read NaN
    left_only = replace(profile, references=profile.references[:2])
    names = channel_names(StreamInfo(fs=1000.0, channels=3), left_only)
    assert names == ["glute_max_left", "hamstring_left", "ch2"]
    norm = left_only.normalizer(names)
    pct = norm.process(np.array([[80.0, 81.0, 5.0]]))
    assert pct[0, 0] == pytest.approx(100.0) and pct[0, 1] == pytest.approx(100.0) and math.isnan(pct[0, 2])


def test_matching_setup_is_accepted() -> None:
    make_profile().check_compatible(SPEC, INFO)
    make_profile().check_compatible(SPEC, INFO, scale=None)


def test_a_different_scale_is_refused_when_checked() -> None:
    with pytest.raises(ProfileError, match=r"the chain scales samples by 4\.88, the profile by None"):
        make_profile().check_compatible(SPEC, INFO, scale=4.88)
    scaled = Profile.from_result("uv", make_result(), SPEC, INFO, scale=4.88)
    assert scaled.units == "uV"
    scaled.check_compatible(SPEC, INFO, scale=4.88)
    with pytest.raises(ProfileError, match=r"by None, the profile by 4\.88"):
        scaled.check_compatible(SPEC, INFO, scale=None)


@pytest.mark.parametrize(
    ("spec", "info", "expect"),
    [
        (SPEC.with_(window_ms=100.0), INFO, ["window_ms 100.0, profile 150.0", "--window-ms 150"]),
        (SPEC.with_(mains="60"), INFO, ["mains 60, profile 50", "--mains 50"]),
        (SPEC.with_(notch_harmonics=True), INFO, ["notch_harmonics", "without --notch-harmonics"]),
        (SPEC.with_(input_mode="pre-rectified"), INFO, ["input_mode", "without --pre-rectified"]),
        (FilterSpec(fs=500.0), replace(INFO, fs=500.0), ["sample rate 500 Hz, profile 1000 Hz", "--fs 1000"]),
        (SPEC, StreamInfo(fs=1000.0, channels=2), ["needs channel 3 for hamstring_right", "connect that sensor"]),
        (SPEC, replace(INFO, units="mV"), ["the source gives mV, the profile was made from counts"]),
    ],
)
def test_mismatched_profile_is_refused(spec: FilterSpec, info: StreamInfo, expect: list[str]) -> None:
    with pytest.raises(SettingsError) as exc:
        make_profile().check_compatible(spec, info)
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith("profile 'both sides, standard placement' does not match this setup")
    assert "calibrate again" in message
    for text in expect:
        assert text in message


def test_unusable_results_are_not_made_into_profiles() -> None:
    with pytest.raises(ProfileError, match="no usable reference for glute_max_left"):
        Profile.from_result("x", make_result(mvc=math.nan), SPEC, INFO)
    with pytest.raises(ProfileError, match="no usable reference"):
        Profile.from_result("x", make_result(mvc=0.5), SPEC, INFO)
    failed = make_result(problems=(Problem("clipping", Severity.FAIL, "Glute max, left, trial 1: clipping"),))
    with pytest.raises(ProfileError, match="not saved: Glute max, left, trial 1: clipping"):
        Profile.from_result("x", failed, SPEC, INFO)
    with pytest.raises(ProfileError, match="cancelled"):
        Profile.from_result("x", replace(make_result(), cancelled=True), SPEC, INFO)
    with pytest.raises(ProfileError, match="name is empty"):
        Profile.from_result("   ", make_result(), SPEC, INFO)


def _edit(data: dict, path: str, value: object) -> dict:
    keys = path.split(".")
    node = data
    for k in keys[:-1]:
        node = node[k]
    if value is KeyError:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("muscles", KeyError, "field muscles is missing"),
        ("muscles.glute_max_left.mvc", 0.1, "muscles.glute_max_left.mvc 0.1 is not above"),
        ("muscles.glute_max_left.mvc", "high", "muscles.glute_max_left.mvc has the wrong type"),
        ("muscles.glute_max_left.channel", 9, "channel 9 is out of range"),
        ("muscles.hamstring_left.channel", 0, "channel 0 is out of range or used twice"),
        ("filters.window_ms", 1.0, "field filters is invalid"),
        ("filters.colour", "red", "unknown filter settings"),
        ("schema", 7, "written by a newer emgfeedback"),
        ("format", "something-else", "field format is 'something-else'"),
        ("fs", 500.0, "disagrees with filters.fs"),
        ("scale", -1.0, "field scale -1 is not positive"),
        ("muscles.glute_max_left.verdicts", [{"code": "x"}], "verdicts is not a list"),
        ("name", True, "field name has the wrong type"),
    ],
)
def test_hand_edited_invalid_profiles_fail_cleanly(emg_home: Path, path: str, value: object, message: str) -> None:
    file = save_profile(make_profile("edited"))
    file.write_text(json.dumps(_edit(json.loads(file.read_text()), path, value)))
    with pytest.raises(ProfileError) as exc:
        load_profile("edited")
    text = str(exc.value)
    assert "\n" not in text and str(file) in text and message in text


@pytest.mark.parametrize("content", ["{", "", "[1, 2]", "null", "\xff\xfe"])
def test_corrupt_profiles_fail_cleanly(emg_home: Path, content: str) -> None:
    file = save_profile(make_profile("broken"))
    file.write_bytes(content.encode("latin-1"))
    with pytest.raises(ProfileError) as exc:
        load_profile("broken")
    assert "\n" not in str(exc.value) and str(file) in str(exc.value)
    entries = scan_profiles()
    assert entries[0][1] is None and entries[0][2]
    assert list_profiles() == []
    delete_profile("broken")  # a broken file can still be deleted by name
    assert not file.exists()


def test_demo_profile_reads_the_scripted_level() -> None:
    profile = demo_profile()
    assert demo_profile() is profile  # cached
    assert profile.muscles == {m: i for i, m in enumerate(MUSCLES)}
    source = SimulatedSource(constant_script(4, 40.0), channels=4, seed=3, realtime=False)
    source.open()
    profile.check_compatible(SPEC, source.info)
    pipeline = Pipeline(SPEC, normalizer=profile.normalizer(channel_names(source.info, profile)))
    pct = pipeline.process(source.generate(12000)).percent[2000:]
    np.testing.assert_allclose(pct.mean(axis=0), 40.0, rtol=0.05)
    two = demo_profile(2, FilterSpec(fs=1000.0, mains="60"))
    assert two.muscles == {"glute_max_left": 0, "hamstring_left": 1} and two.filters.mains.value == "60"


def test_profiles_command(emg_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 0
    assert "no profiles yet" in capsys.readouterr().out
    save_profile(make_profile("standard"))
    (emg_home / "profiles" / "junk.json").write_text("{")
    assert main(["profiles", "list"]) == 0
    out = capsys.readouterr().out
    assert "standard: glute_max_left=0, hamstring_left=1" in out and "junk.json: unreadable" in out
    assert main(["profiles", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r.get("name") for r in rows} == {"standard", None}
    assert main(["profiles", "show", "standard"]) == 0
    out = capsys.readouterr().out
    assert "glute_max_left (channel 0): MVC 80 counts" in out and "warn: Glute max, left: trials differ" in out
    assert main(["profiles", "show", "standard", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["muscles"]["hamstring_right"]["mvc"] == 83.0
    assert main(["profiles", "show", "junk"]) == 2
    err = capsys.readouterr().err
    assert "junk.json: is not valid JSON" in err and err.count("\n") == 1
    assert main(["profiles", "delete", "standard"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert main(["profiles", "show"]) == 2
    assert "give the profile name" in capsys.readouterr().err
    assert main(["profiles", "show", "standard"]) == 2


def test_reference_dataclass_round_trip() -> None:
    ref = MuscleReference("hamstring_left", 1, 60.0, 0.8, (58.0, 60.0), 0.03, (Problem("hum", Severity.WARN, "hum"),))
    assert ref.to_dict()["verdicts"] == [{"code": "hum", "severity": "warn", "message": "hum"}]
