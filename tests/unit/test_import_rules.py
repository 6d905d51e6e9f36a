"""The house rules of docs/architecture.md, enforced on the source tree.

Every import of `orchestrator`/`exporters` modules (at the top, inside functions, under
TYPE_CHECKING) is checked against the layer table; rules/ never imports by string; no module
loads code by string at all; readers never create or alter tables. Each rule is also shown to
catch a violation on a small synthetic module, so a checker that silently passes everything
fails here too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# (module prefix, layer), most specific first.
LAYER_OF = (
    ("orchestrator.cli", "entry"),
    ("orchestrator.__main__", "entry"),
    ("orchestrator.site", "wiring"),
    ("orchestrator.runtime", "wiring"),
    ("orchestrator.config", "wiring"),
    ("orchestrator.actions", "actions"),
    ("exporters", "readers"),
    ("orchestrator.network", "probing"),
    ("orchestrator.rules", "judgement"),
    ("orchestrator.evidence", "evidence"),
    ("orchestrator.model", "records"),
    ("orchestrator.integrations", "integrations"),
    ("orchestrator.errors", "foundation"),
    ("orchestrator.timefmt", "foundation"),
    ("orchestrator.input_files", "foundation"),
    ("orchestrator.secret_names", "foundation"),
    ("orchestrator", "foundation"),  # the package itself: __version__
)
BELOW_ACTIONS = {"readers", "probing", "judgement", "evidence", "records", "integrations"}
EVERY_LAYER = {"entry", "wiring", "actions", "foundation"} | BELOW_ACTIONS
MAY_IMPORT = {
    "entry": EVERY_LAYER,
    "wiring": {"wiring", "judgement", "records", "integrations", "foundation"},
    "actions": EVERY_LAYER - {"entry"},
    "readers": {"readers", "judgement", "records", "foundation"},
    "probing": {"probing", "records", "integrations", "foundation"},
    "judgement": {"judgement", "records", "foundation"},
    "evidence": {"evidence", "foundation"},
    "records": {"records", "foundation"},
    "integrations": {"integrations", "foundation"},
    "foundation": {"foundation"},
}
# Modules an action may not import although their layer is allowed: the site is loaded once,
# by the CLI, and handed down.
NOT_FOR_ACTIONS = ("orchestrator.site",)
# Modules that only read the catalog: the exporters, the snapshot, the status readers.
READERS = (
    "exporters",
    "orchestrator.model.snapshot",
    "orchestrator.model.aggregates",
    "orchestrator.actions.status",
    "orchestrator.actions.rule_status",
)
SCHEMA_WRITERS = {"create_all", "drop_all", "upgrade", "stamp", "upgrade_catalog"}
STRING_IMPORTERS = {"import_module", "find_spec", "__import__", "spec_from_file_location"}


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.rule}"


def layer_of(module: str) -> str | None:
    """Given a dotted module name, return its layer (None: not ours)."""
    for prefix, layer in LAYER_OF:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Yield (line, module) for every import in the tree, wherever it is."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                kept = package[: len(package) - node.level + 1]
                base = ".".join([*kept, *([node.module] if node.module else [])])
            for alias in node.names:  # `from orchestrator import cli` imports orchestrator.cli
                candidate = f"{base}.{alias.name}"
                yield node.lineno, candidate if layer_of(candidate) != layer_of(base) else base


def called_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Yield (line, name) of every call: `f(...)` gives f, `a.b.f(...)` gives f."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                yield node.lineno, node.func.id
            elif isinstance(node.func, ast.Attribute):
                yield node.lineno, node.func.attr


def check_module(module: str, source: str, is_package: bool = False) -> list[Violation]:
    """Given a module's dotted name and source, return every house rule it breaks."""
    tree = ast.parse(source)
    me = layer_of(module)
    found: list[Violation] = []
    if me is None:
        return found
    for line, imported in imported_modules(tree, module, is_package):
        other = layer_of(imported)
        if other is not None and other not in MAY_IMPORT[me]:
            found.append(Violation(module, line, f"{me} may not import {imported} ({other})"))
        if me == "actions" and imported.startswith(NOT_FOR_ACTIONS):
            found.append(Violation(module, line, f"actions may not import {imported}"))
    for line, name in called_names(tree):
        if name in STRING_IMPORTERS:
            found.append(Violation(module, line, f"imports by string ({name})"))
        if module.startswith(READERS) and name in SCHEMA_WRITERS:
            found.append(Violation(module, line, f"a reader writes schema ({name})"))
    return found


def source_files() -> list[Path]:
    return sorted([*(ROOT / "orchestrator").rglob("*.py"), *(ROOT / "exporters").rglob("*.py")])


def test_the_tree_keeps_the_house_rules() -> None:
    violations = [
        str(v)
        for path in source_files()
        for v in check_module(
            module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py"
        )
    ]
    assert violations == [], "\n".join(violations)


def test_every_module_has_a_layer() -> None:
    assert [module_name(p) for p in source_files() if layer_of(module_name(p)) is None] == []


# --- each rule catches its violation ------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        (
            "orchestrator.actions.backup",
            "def f():\n    from orchestrator.cli.main import main\n",
            "actions may not import orchestrator.cli.main (entry)",
        ),
        (
            "orchestrator.actions.backup",
            "from orchestrator import cli\n",
            "actions may not import orchestrator.cli (entry)",
        ),
        (
            "orchestrator.actions.backup",
            "from orchestrator.site import load_site\n",
            "actions may not import orchestrator.site",
        ),
        (
            "orchestrator.integrations.stores.base",
            "from orchestrator.config import LoadedConfig\n",
            "integrations may not import orchestrator.config (wiring)",
        ),
        (
            "orchestrator.integrations.hosts",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from orchestrator.site import LoadedSite\n",
            "integrations may not import orchestrator.site (wiring)",
        ),
        (
            "orchestrator.integrations.ansible",
            "import orchestrator.actions.backup\n",
            "integrations may not import orchestrator.actions.backup (actions)",
        ),
        (
            "orchestrator.integrations.execute",
            "from ..rules import pack\n",
            "integrations may not import orchestrator.rules (judgement)",
        ),
        (
            "orchestrator.rules.evaluate",
            "import importlib\nmodule = importlib.import_module('orchestrator.network.probes')\n",
            "imports by string (import_module)",
        ),
        (
            "orchestrator.rules.evaluate",
            "from orchestrator.network import tracker\n",
            "judgement may not import orchestrator.network (probing)",
        ),
        (
            "orchestrator.model.outages",
            "from orchestrator.network.tracker import PathTracker\n",
            "records may not import orchestrator.network.tracker (probing)",
        ),
        (
            "exporters.collector",
            "from orchestrator.model.schema import metadata\n"
            "def read(engine):\n    metadata.create_all(engine)\n",
            "a reader writes schema (create_all)",
        ),
        (
            "orchestrator.model.snapshot",
            "def read(catalog):\n    catalog.upgrade()\n",
            "a reader writes schema (upgrade)",
        ),
    ],
)
def test_each_rule_catches_its_violation(module: str, source: str, rule: str) -> None:
    assert rule in [v.rule for v in check_module(module, source)]


def test_allowed_imports_pass() -> None:
    source = "from orchestrator.errors import E\nfrom orchestrator.model.catalog import Catalog\n"
    assert check_module("orchestrator.rules.evaluate", source) == []
    assert check_module("orchestrator.actions.backup", "from orchestrator.runtime import R\n") == []
