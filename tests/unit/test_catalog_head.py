"""A reader checks the catalog's schema revision without Alembic (model/migrate.py): the
HEAD_REVISION it compares with is Alembic's head, a current catalog passes without loading
Alembic, and an older or unknown revision is still refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from orchestrator.errors import CatalogSchemaMismatch
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import (
    HEAD_REVISION,
    head_revision,
    require_current,
    stamped_revision,
    upgrade_catalog,
)


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    upgrade_catalog(catalog)
    return catalog


def stamp(catalog: Catalog, revision: str) -> None:
    with catalog.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_head_revision_is_the_newest_migration() -> None:
    # Adding a migration without moving HEAD_REVISION fails here (docs/catalog.md).
    assert head_revision() == HEAD_REVISION


def test_a_current_catalog_is_accepted_without_loading_alembic(catalog: Catalog) -> None:
    script = (
        "import sys\n"
        "from orchestrator.model.catalog import Catalog\n"
        "from orchestrator.model.migrate import require_current\n"
        f"print(require_current(Catalog({str(catalog.engine.url)!r})))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [HEAD_REVISION, "[]"]


def test_an_older_stamp_is_refused(catalog: Catalog) -> None:
    stamp(catalog, "0001")
    assert stamped_revision(catalog) == "0001"
    with pytest.raises(CatalogSchemaMismatch, match="schema revision 0001 is older than"):
        require_current(catalog)


def test_an_unknown_stamp_is_refused_as_newer(catalog: Catalog) -> None:
    stamp(catalog, "9999")
    with pytest.raises(CatalogSchemaMismatch, match="9999 is newer than this drctl knows"):
        require_current(catalog)


def test_no_version_table_reads_as_no_stamp(tmp_path: Path) -> None:
    empty = Catalog(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert stamped_revision(empty) is None
    with pytest.raises(CatalogSchemaMismatch, match="no catalog"):
        require_current(empty)


def test_upgrading_a_current_catalog_does_not_load_alembic_and_an_older_one_moves(
    catalog: Catalog,
) -> None:
    # Every command that writes starts with upgrade_catalog (issue 15: Alembic's import was
    # half a second of each `verify --all`); a current catalog is left after one query.
    script = (
        "import sys\n"
        "from orchestrator.model.catalog import Catalog\n"
        "from orchestrator.model.migrate import upgrade_catalog\n"
        f"print(*upgrade_catalog(Catalog({str(catalog.engine.url)!r})))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [f"{HEAD_REVISION} {HEAD_REVISION}", "[]"]
    stamp(catalog, "0005")
    assert upgrade_catalog(catalog) == ("0005", HEAD_REVISION)
    assert stamped_revision(catalog) == HEAD_REVISION
    stamp(catalog, "9999")
    with pytest.raises(CatalogSchemaMismatch, match="9999 is newer than this drctl knows"):
        upgrade_catalog(catalog)
