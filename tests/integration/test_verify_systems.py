"""A validity check over several systems restores `verification.restore_concurrency` systems
into the enclave at once, each into its own directory (docs/verification.md §4).

Two production sites on real sshd hosts, one system each, whose datasets share their relative
paths (`d00`, `d01`, …) but not their content: restored into one place at once, a check would
compare one system's files with the other's fingerprint.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.hosts import SshHost
from tests.fixtures.serve_nodes import build_site
from tests.integration.test_serve_nodes_queue import drctl_json

DATASETS_PER_HOST = 3


def with_concurrency(config_path: Path, systems: int) -> None:
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    document.setdefault("verification", {})["restore_concurrency"] = systems
    config_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def test_two_systems_sharing_relative_paths_are_restored_at_once_and_each_checked(
    tmp_path: Path, sshd_host: SshHost, sshd_host_b: SshHost
) -> None:
    config_path = build_site(tmp_path / "sb", [sshd_host, sshd_host_b], None, DATASETS_PER_HOST)
    with_concurrency(config_path, 2)
    code, backed_up = drctl_json(config_path, "backup")
    assert code == 0, backed_up
    code, outcome = drctl_json(config_path, "verify", "--seed", "3")
    assert code == 0, outcome
    assert outcome["passed"] and outcome["wipe"]["result"] == "wiped", outcome
    systems = {item["system"] for item in outcome["items"]}
    assert systems == {"branch-0", "branch-1"}
    enclave = load_site(config_path).config.model.site("verification")
    assert not [p for p in Path(enclave.data_root).rglob("*") if p.is_file()]
    # The two systems' restores ran at the same time: their timed intervals overlap.
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        timings = list(connection.execute(schema.restore_timings.select()))
    spans = {
        system: (
            min(t.started_at for t in timings if t.system == system),
            max(t.finished_at for t in timings if t.system == system),
        )
        for system in systems
    }
    (first, end_first), (second, end_second) = sorted(spans.values())
    assert second < end_first, spans
