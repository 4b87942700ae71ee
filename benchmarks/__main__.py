"""Entry point: ``python -m benchmarks`` runs them all, ``python -m benchmarks NAME`` one."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import benchmarks


def available() -> list[str]:
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(Path(benchmarks.__file__).parent)])
        if m.name.startswith("bench_")
    )


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"benchmarks: unknown benchmark {unknown[0]!r}: use one of {', '.join(available())}", file=sys.stderr)
        return 2
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        for figure in module.run():
            print(figure.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
