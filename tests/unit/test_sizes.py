"""The size rules of issue 11 and the style guide, enforced on the source tree: no module of
`orchestrator/` or `exporters/` over 400 lines, no function over 60 (Alembic migrations are
generated and left out). Lines are physical lines; a function's run from its `def` to its
last line, nested functions included. Each rule is also shown to catch a violation on a
synthetic source, so a checker that silently passes everything fails here too.

`python tests/unit/test_sizes.py` prints the figures (modules, median, the largest module,
the longest functions).
"""

from __future__ import annotations

import ast
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def source_files() -> list[Path]:
    """Return every module of orchestrator/ and exporters/ but the Alembic migrations."""
    return sorted(
        path
        for folder in ("orchestrator", "exporters")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def line_count(source: str) -> int:
    return len(source.splitlines())


def function_lengths(source: str) -> list[tuple[str, int, int]]:
    """Given a module's source, return (name, first line, lines) of every function in it."""
    return [
        (node.name, node.lineno, (node.end_lineno or node.lineno) - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def oversized(relative: str, source: str) -> list[str]:
    """Given a module's path (relative to the checkout) and source, return each size rule it
    breaks."""
    found = []
    lines = line_count(source)
    if lines > MAX_MODULE_LINES:
        found.append(f"{relative}: {lines} lines (at most {MAX_MODULE_LINES})")
    for name, first, length in function_lengths(source):
        if length > MAX_FUNCTION_LINES:
            found.append(
                f"{relative}:{first}: {name} is {length} lines (at most {MAX_FUNCTION_LINES})"
            )
    return found


def test_no_module_or_function_is_too_long() -> None:
    broken = [
        problem
        for path in source_files()
        for problem in oversized(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    ]
    assert broken == [], "\n".join(broken)


def test_the_tree_is_counted() -> None:
    names = {str(path.relative_to(ROOT)) for path in source_files()}
    assert "orchestrator/cli/main.py" in names
    assert "exporters/collector.py" in names
    assert not any("migrations" in name for name in names)


def test_a_long_module_is_caught() -> None:
    source = "x = 1\n" * (MAX_MODULE_LINES + 1)
    assert oversized("orchestrator/long.py", source) == [
        f"orchestrator/long.py: {MAX_MODULE_LINES + 1} lines (at most {MAX_MODULE_LINES})"
    ]
    assert oversized("orchestrator/long.py", "x = 1\n" * MAX_MODULE_LINES) == []


def test_a_long_function_is_caught() -> None:
    body = "    x = 1\n" * (MAX_FUNCTION_LINES - 1)
    assert oversized("orchestrator/m.py", f"def f():\n{body}") == []
    assert oversized("orchestrator/m.py", f"def f():\n{body}    y = 2\n") == [
        f"orchestrator/m.py:1: f is {MAX_FUNCTION_LINES + 1} lines (at most {MAX_FUNCTION_LINES})"
    ]
    method = "class C:\n    async def g(self):\n" + "        x = 1\n" * MAX_FUNCTION_LINES
    assert oversized("orchestrator/m.py", method) == [
        f"orchestrator/m.py:2: g is {MAX_FUNCTION_LINES + 1} lines (at most {MAX_FUNCTION_LINES})"
    ]


def summary() -> str:
    sizes = {
        str(p.relative_to(ROOT)): line_count(p.read_text(encoding="utf-8")) for p in source_files()
    }
    functions = sorted(
        (
            (length, f"{name} ({path})")
            for path in sizes
            for name, _first, length in function_lengths((ROOT / path).read_text(encoding="utf-8"))
        ),
        reverse=True,
    )
    largest = max(sizes.items(), key=lambda item: item[1])
    lines = [
        f"modules {len(sizes)}, median {statistics.median(sizes.values())} lines, "
        f"{sum(1 for n in sizes.values() if n > 120)} over 120",
        f"largest module {largest[0]} {largest[1]} lines",
        *(f"function {text}: {length} lines" for length, text in functions[:5]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary())
