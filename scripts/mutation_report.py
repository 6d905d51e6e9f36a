"""Report a `mutmut run` (make mutation): the kill ratio per module, and every survivor.

Reads the modules from `[tool.mutmut] only_mutate` in pyproject.toml, the outcome of each
mutant from mutmut's `mutants/<module>.meta`, and the mutants judged equivalent from the table
under "## Equivalent mutants" in docs/testing.md. A survivor matches a table row when the module,
the function and the mutated line (the `+` line of its diff, stripped) are the same, so the
table survives renumbering. Killed = failed a test or timed out (a hang is counted, not waited
on); "no tests" counts as surviving. The ratio is killed / (mutants - equivalent).

Exit 0 when every module meets the goal (90 %), 1 otherwise or when a table row matches no
survivor (a stale row: the mutant is killed now, or the line changed). Run from the repository
root after `mutmut run`; `make mutation` does both.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

GOAL = 0.90
TESTING_DOC = Path("docs/testing.md")
KILLED_CODES = {1, 3}
TIMEOUT_CODES = {36, -24, 24, 152, 255}
ROW = re.compile(
    r"^\|\s*`(?P<module>[^`]+)`\s*\|\s*`(?P<function>[^`]+)`\s*\|\s*`(?P<line>.+?)`\s*\|"
)


@dataclass
class ModuleResult:
    module: str
    killed: int = 0
    timeout: int = 0
    survivors: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    not_run: int = 0

    @property
    def total(self) -> int:
        return self.killed + self.timeout + len(self.survivors) + len(self.equivalent)

    @property
    def judged(self) -> int:
        return self.total - len(self.equivalent)

    @property
    def ratio(self) -> float:
        return (self.killed + self.timeout) / self.judged if self.judged else 1.0


def modules(pyproject: Path = Path("pyproject.toml")) -> list[str]:
    """Return the source files `[tool.mutmut] only_mutate` selects, sorted."""
    patterns = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["mutmut"]["only_mutate"]
    found = {
        path.as_posix()
        for path in Path("orchestrator").rglob("*.py")
        if any(fnmatch.fnmatch(path.as_posix(), pattern) for pattern in patterns)
    }
    return sorted(found)


def equivalent_rows(doc: Path = TESTING_DOC) -> set[tuple[str, str, str]]:
    """Return (module, function, mutated line) of every row of the equivalent-mutants table."""
    rows: set[tuple[str, str, str]] = set()
    inside = False
    text = doc.read_text(encoding="utf-8") if doc.is_file() else ""
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line.strip() == "## Equivalent mutants"
            continue
        match = ROW.match(line) if inside else None
        if match:
            mutated = match["line"].replace("\\|", "|")
            rows.add((match["module"], match["function"], " ".join(mutated.split())))
    return rows


def function_of(mutant: str) -> str:
    """Given `pkg.mod.x_name__mutmut_3` or `pkg.mod.xǁClassǁname__mutmut_3`, return
    `name` or `Class.name`."""
    local = mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    parts = [part for part in local.split("ǁ") if part]
    if len(parts) > 1:
        return ".".join(parts[1:])
    return local.removeprefix("x_")


def mutated_line(diff: str) -> str:
    """Return the `+` lines of a mutant's diff, whitespace-normalised ('' if none)."""
    added = [
        line[1:]
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return " / ".join(" ".join(line.split()) for line in added)


def judge(
    module: str, rows: set[tuple[str, str, str]], used: set[tuple[str, str, str]]
) -> ModuleResult:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    result = ModuleResult(module)
    meta = Path("mutants") / f"{module}.meta"
    if not meta.is_file():
        return result
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    for mutant, code in sorted(codes.items()):
        if code in KILLED_CODES:
            result.killed += 1
        elif code in TIMEOUT_CODES:
            result.timeout += 1
        elif code is None:
            result.not_run += 1
        else:
            diff = get_diff_for_mutant(mutant, path=module)
            key = (module, function_of(mutant), mutated_line(diff))
            if key in rows:
                used.add(key)
                result.equivalent.append(mutant)
            else:
                result.survivors.append(f"{mutant} (exit {code})\n{diff}")
    return result


def report(results: Iterable[ModuleResult], stale: Iterable[tuple[str, str, str]]) -> int:
    results = list(results)
    header = (
        f"{'module':<44} {'mutants':>7} {'killed':>6} {'timeout':>7} {'survived':>8} "
        f"{'equivalent':>10} {'kill ratio':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.module:<44} {r.total:>7} {r.killed:>6} {r.timeout:>7} {len(r.survivors):>8} "
            f"{len(r.equivalent):>10} {r.ratio * 100:>9.1f}%"
        )
    killed = sum(r.killed + r.timeout for r in results)
    judged = sum(r.judged for r in results)
    total = sum(r.total for r in results)
    print("-" * len(header))
    print(
        f"{'all modules':<44} {total:>7} {sum(r.killed for r in results):>6} "
        f"{sum(r.timeout for r in results):>7} {sum(len(r.survivors) for r in results):>8} "
        f"{sum(len(r.equivalent) for r in results):>10} "
        f"{(killed / judged if judged else 1.0) * 100:>9.1f}%"
    )
    failed = False
    not_run = sum(r.not_run for r in results)
    if not_run:
        print(f"\n{not_run} mutant(s) were not run: the run was interrupted", file=sys.stderr)
        failed = True
    for r in results:
        if r.ratio < GOAL:
            print(
                f"\n{r.module}: {r.ratio * 100:.1f} % is below the {GOAL:.0%} goal", file=sys.stderr
            )
            failed = True
    survivors = [s for r in results for s in r.survivors]
    if survivors:
        print(f"\n{len(survivors)} survivor(s) not listed as equivalent in {TESTING_DOC}:")
        for survivor in survivors:
            print(f"\n{survivor}")
    for module, function, line in sorted(stale):
        print(
            f"\nstale row in {TESTING_DOC}: {module} {function} `{line}` matches no survivor",
            file=sys.stderr,
        )
        failed = True
    return 1 if failed else 0


def main() -> int:
    if not Path("mutants").is_dir():
        print("no mutants/ directory: run `make mutation` (mutmut run) first", file=sys.stderr)
        return 2
    rows = equivalent_rows()
    used: set[tuple[str, str, str]] = set()
    results = [judge(module, rows, used) for module in modules()]
    return report(results, rows - used)


if __name__ == "__main__":
    sys.exit(main())
