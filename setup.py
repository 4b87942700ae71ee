"""Build hook: the wheel carries the top-level calibration/ folder (user-editable MVC protocols) as
``emgfeedback/calibration/protocols/``, so they load the same way installed as from a checkout."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithProtocols(build_py):
    """build_py, plus calibration/*.toml copied into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's calibration/ folder directly
        target = Path(self.build_lib) / "emgfeedback" / "calibration" / "protocols"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted((ROOT / "calibration").glob("*.toml")):
            self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildPyWithProtocols})
