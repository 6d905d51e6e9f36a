"""`drctl catalog rebuild`: put the catalog back from the stores and the signed evidence
(actions/catalog_rebuild.py). With `--dry-run` the same rebuild runs into a scratch copy of
the catalog (a copy of the site's SQLite file, or an empty one) that is then thrown away."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from orchestrator.actions.catalog_rebuild import RebuildOutcome, rebuild_catalog
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, worst_exit_code
from orchestrator.model.catalog import Catalog, sqlite_file
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.runtime import Runtime, open_runtime
from orchestrator.site import LoadedSite


def rebuild(call: Call) -> int:
    site = call.site()
    if call.args.dry_run:
        outcome = _dry_run(site)
    else:
        with open_runtime(site) as runtime:
            outcome = rebuild_catalog(runtime)
    verb, back = ("would add", "would set back") if call.args.dry_run else ("added", "set back")
    lines = [f"{back}: {line}" for line in outcome.set_back]
    lines += [f"not recovered: {line}" for line in outcome.not_recovered]
    lines += [f"unreachable store: {line}" for line in outcome.unreachable]
    lines.append(
        f"summary: {verb} {outcome.points} recovery point(s), {outcome.copies} copies, "
        f"{outcome.drills} drill(s), {outcome.verifications} check(s), "
        f"{outcome.failures} bad mark(s), {outcome.resolved} closed; {back} "
        f"{len(outcome.set_back)} edited row(s) to their signed records; "
        f"{len(outcome.not_recovered)} not recovered, {len(outcome.unreachable)} store(s) "
        "unreachable" + ("; dry run: the catalog was not changed" if call.args.dry_run else "")
    )
    call.out.emit({**outcome.as_dict(), "dry_run": call.args.dry_run}, "\n".join(lines))
    # Incomplete is never ok: a store not read is exit 3; a point or package refused, 1 (and
    # 1 wins: an intruder is not to be read as a store that will come back).
    return worst_exit_code(
        [ExitCode.INFRASTRUCTURE] * bool(outcome.unreachable)
        + [ExitCode.CHECK_FAILED] * bool(outcome.not_recovered)
    )


def _dry_run(site: LoadedSite) -> RebuildOutcome:
    config = site.config
    with tempfile.TemporaryDirectory(prefix="drctl-rebuild-") as scratch:
        copy = Path(scratch) / "catalog.db"
        url = config.catalog_url
        if (file := sqlite_file(url)) is not None and file.is_file():
            shutil.copyfile(file, copy)
        catalog = Catalog(f"sqlite:///{copy}")
        upgrade_catalog(catalog)  # the scratch copy only
        runtime = Runtime(config=config, pack=site.pack, calendar=site.calendar, catalog=catalog)
        try:
            return rebuild_catalog(runtime)
        finally:
            runtime.close()
