"""Optional extras (mne-lsl, brainflow): a missing one is refused with one line naming the pip extra."""

from __future__ import annotations

import sys

import pytest

from emgfeedback.cli import main
from emgfeedback.errors import MissingExtraError, UserError
from emgfeedback.io import extras


@pytest.mark.parametrize(("extra", "module"), [("lsl", "mne_lsl.lsl"), ("brainflow", "brainflow.board_shim")])
def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch, extra: str, module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import of it now fails as if not installed
    with pytest.raises(MissingExtraError) as err:
        extras.require(extra)
    assert isinstance(err.value, UserError)
    text = str(err.value)
    assert "\n" not in text and f"pip install 'emgfeedback[{extra}]'" in text


def test_cli_refuses_lsl_without_mne_lsl(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "mne_lsl.lsl", None)
    code = main(["record", "--source", "simulated", "--seconds", "1", "--lsl"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "emgfeedback[lsl]" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_cli_refuses_brainflow_source_without_brainflow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "brainflow.board_shim", None)
    code = main(["monitor", "--source", "brainflow:synthetic", "--seconds", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "emgfeedback[brainflow]" in err and len(err.splitlines()) == 1
