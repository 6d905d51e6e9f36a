"""The history a sample plan is drawn from (actions/verify_plan.collect_population), read from
a real SQLite catalog: which datasets count as checked, and when."""

from __future__ import annotations

from pathlib import Path

from orchestrator.actions.verify_plan import collect_population
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import upgrade_catalog
from tests.fixtures.catalog_rows import SYSTEM, model, point_row

NOW = 1_790_000_000.0


def test_a_point_removed_while_checked_does_not_make_its_dataset_checked(tmp_path: Path) -> None:
    # A check whose ledger point retention removed as it was read (status `removed`, not
    # judged) and whose config point passed: only config counts as checked. Before, ledger
    # moved to the back of the coverage queue as if checked, and could wait ten more checks.
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    upgrade_catalog(catalog)
    with catalog.begin() as connection:
        for dataset in ("ledger", "config"):
            cat.record_recovery_point(connection, point_row(f"p-{dataset}", dataset, NOW))
            cat.record_copy(
                connection, f"p-{dataset}", "primary", "production", written_at=NOW, verified_at=NOW
            )
        connection.execute(
            schema.verifications.insert().values(
                id="v1", kind="sample", started_at=NOW + 10, status="passed", counted=True
            )
        )
        for point, status in (("p-ledger", "removed"), ("p-config", "passed")):
            connection.execute(
                schema.verification_items.insert().values(
                    verification_id="v1",
                    recovery_point_id=point,
                    store="primary",
                    status=status,
                    checked_at=NOW + 20,
                )
            )
        history = collect_population(model(), connection, "in_rotation").history
    checked = {entry.dataset: entry.last_checked_at for entry in history if entry.system == SYSTEM}
    assert checked == {"ledger": None, "config": NOW + 20}
    catalog.close()
