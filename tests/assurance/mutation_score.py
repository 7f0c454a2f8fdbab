"""The mutation score of each module that `make assurance` mutates, checked against a floor.

A plain script (pytest does not collect it): run after `mutmut run`, it reads mutmut's
results under mutants/ for every file named in pyproject.toml's [tool.mutmut] only_mutate,
prints per module the mutants, the killed, the survivors (by id, for `mutmut show ID`) and
the score, and exits non-zero when any module scores below the floor or was not run in full.

Equivalent mutants (no test can tell them from the code) are listed with a reason in
equivalent_mutants.txt beside this script and counted out; one that a test kills after all
is an error, so the list never hides a mutant that can be caught.

    python tests/assurance/mutation_score.py [--floor 95]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = Path(__file__).with_name("equivalent_mutants.txt")
FLOOR = 95.0

# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code): a failing test run or a
# mutant that hangs the tests (timeout) is caught; anything else is not.
KILLED = {1: "killed", 3: "killed"} | dict.fromkeys((24, -24, 36, 152, 255), "timeout")
NOT_KILLED = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 35: "suspicious"}


@dataclass
class ModuleScore:
    path: str
    mutants: int = 0
    killed: int = 0
    equivalent: list[str] = field(default_factory=list)
    survived: dict[str, str] = field(default_factory=dict)  # id -> status
    not_run: list[str] = field(default_factory=list)
    killed_but_listed: list[str] = field(default_factory=list)

    @property
    def counted(self) -> int:
        return self.mutants - len(self.equivalent)

    @property
    def score(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 0.0


def modules_to_mutate(root: Path) -> list[str]:
    config = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    return list(config["tool"]["mutmut"]["only_mutate"])


def equivalent_mutants(path: Path) -> dict[str, str]:
    """Mutant id -> why no test can kill it ("id  # reason" per line)."""
    listed: dict[str, str] = {}
    if not path.exists():
        return listed
    for line in path.read_text("utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        mutant, _, reason = line.partition("#")
        if not reason.strip():
            raise SystemExit(f"{path.name}: {mutant.strip()} needs a reason after '#'")
        listed[mutant.strip()] = reason.strip()
    return listed


def score_module(
    path: str, exit_codes: Mapping[str, int | None], equivalent: set[str]
) -> ModuleScore:
    result = ModuleScore(path)
    for mutant, code in sorted(exit_codes.items(), key=lambda item: _natural(item[0])):
        result.mutants += 1
        caught = code in KILLED
        if mutant in equivalent:
            result.equivalent.append(mutant)
            if caught:
                result.killed_but_listed.append(mutant)
        elif caught:
            result.killed += 1
        elif code is None:
            result.not_run.append(mutant)
        else:
            result.survived[mutant] = NOT_KILLED.get(code, f"exit code {code}")
    return result


def _natural(mutant: str) -> tuple[str, int]:
    name, _, number = mutant.rpartition("_")
    return (name, int(number)) if number.isdigit() else (mutant, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", type=float, default=FLOOR, help="lowest score allowed, in %%")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)

    listed = equivalent_mutants(EQUIVALENT)
    failures: list[str] = []
    seen: set[str] = set()
    for path in modules_to_mutate(args.root):
        meta = args.root / "mutants" / f"{path}.meta"
        if not meta.exists():
            failures.append(f"{path}: no mutation results (run `mutmut run` first)")
            continue
        exit_codes: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        seen |= exit_codes.keys()
        module = score_module(path, exit_codes, set(listed))
        print(f"{module.path}")
        print(f"  mutants    {module.mutants}")
        print(f"  killed     {module.killed}")
        print(f"  equivalent {len(module.equivalent)}")
        for mutant in module.equivalent:
            print(f"    {mutant}  ({listed[mutant]})")
        print(f"  survived   {len(module.survived)}")
        for mutant, status in module.survived.items():
            print(f"    {mutant}  ({status}; `mutmut show {mutant}`)")
        print(f"  score      {module.score:.1f} % (floor {args.floor:g} %)")
        if module.mutants == 0:
            failures.append(f"{path}: no mutants were made")
        if module.not_run:
            failures.append(f"{path}: {len(module.not_run)} mutants were not run")
        if module.killed_but_listed:
            failures.append(
                f"{path}: listed as equivalent but killed, remove from {EQUIVALENT.name}: "
                + ", ".join(module.killed_but_listed)
            )
        if module.score < args.floor:
            failures.append(f"{path}: score {module.score:.1f} % is below {args.floor:g} %")
    stale = sorted(set(listed) - seen)
    if stale:
        failures.append(f"{EQUIVALENT.name} names mutants that no longer exist: {', '.join(stale)}")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
