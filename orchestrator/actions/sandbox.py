"""The embedded sandbox: two sites on localhost under .dr/sandbox/, Ansible `local`, two file
stores and a SQLite catalog. Each run starts a fresh site: data, stores, catalog, and its own
evidence chain and anchors. The previous run's evidence and anchors are moved aside, never
deleted (`.dr/previous-runs/<when>/`), and the signing keys stay. A chain carried over onto a
fresh catalog made every `status` after the second run warn that the catalog lacked, and was
younger than, its evidence: true of the files, false of the site, and a warning an operator
learns to ignore.

Every sandbox site is marked `sandbox: true`: only there may a drill seed, write postings and
destroy data (model/scenario_safety.py)."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import yaml

from orchestrator.resources import resource_path
from orchestrator.timefmt import sortable_id

logger = logging.getLogger(__name__)

SANDBOX_DIR = Path(".dr/sandbox")
PREVIOUS_RUNS = "previous-runs"  # beside the sandbox: earlier runs' evidence and anchors
SCENARIO = resource_path("drills", "sandbox-failover.yml")
LEDGER_INVARIANT = (
    "SELECT a.id FROM accounts a LEFT JOIN (SELECT account_id, SUM(amount_cents) AS total "
    "FROM postings GROUP BY account_id) p ON p.account_id = a.id "
    "WHERE a.balance_cents != COALESCE(p.total, 0)"
)
SITES = (
    ("production", "production", "prod-core-1", "Shanghai"),
    ("disaster-recovery", "disaster_recovery", "dr-core-1", "Hefei"),
)


def make_inventory(python: str) -> str:
    """Return the sandbox inventory: every host is this machine over Ansible's `local`."""
    line = f"ansible_connection=local ansible_python_interpreter={python}"
    return (
        f"[production]\nprod-core-1 {line}\n\n[disaster_recovery]\ndr-core-1 {line}\n\n"
        f"[verification]\nverify-1 {line}\n"
    )


MANIFEST_KEY = "../keys/manifest-ed25519.pem"


KEK_FILE = "../keys/kek.hex"


def make_config(root: Path, manifest_public_key: str | None = None) -> dict[str, object]:
    """Return the sandbox's dr.yml as a dict, with absolute paths under root (and the pinned
    public key of the manifest signing key, when given). New recovery points are encrypted
    (the default for new configs) under the sandbox's key-encryption key."""
    signing = {"key": MANIFEST_KEY}
    if manifest_public_key:
        signing["public_key"] = manifest_public_key
    return {
        "version": 1,
        "manifest_signing": signing,
        "encryption": {"cipher": "aes-256-gcm", "key_encryption_key": {"file": KEK_FILE}},
        "state_dir": "state",
        "inventory": "inventory.ini",
        "evidence": {
            "directory": "../evidence",
            "signing_key": "../keys/evidence-ed25519.pem",
            "accountable_person": "沙箱演示 数据集中安全工作第一责任人 (sandbox demo)",
            "anchor_store": "evidence-anchor",
        },
        "calendar": {"business_date_cutoff_hour": 6},
        "sites": _sites(root),
        "stores": _stores(root),
        "systems": [_core_banking()],
    }


def _sites(root: Path) -> list[dict[str, object]]:
    sites: list[tuple[str, str, str, str, str]] = [
        (name, role, host, city, "data") for name, role, host, city in SITES
    ]
    sites.append(("verification", "vault", "verify-1", "Shanghai", "enclave"))
    return [
        {
            "name": name,
            "role": role,
            "host": host,
            "city": city,
            "data_root": str(root / "sites" / name / data),
            "spool": str(root / "sites" / name / "spool"),
            "sandbox": True,
        }
        for name, role, host, city, data in sites
    ]


def _stores(root: Path) -> list[dict[str, object]]:
    return [
        {"name": "primary", "url": f"file://{root / 'stores' / 'primary'}", "site": "production"},
        {
            "name": "offsite",
            "url": f"file://{root / 'stores' / 'offsite'}",
            "site": "disaster-recovery",
        },
        # Outside stores/: set aside with its run's evidence (set_aside_previous_run).
        {
            "name": "evidence-anchor",
            "url": f"file://{root.parent / 'anchor'}",
            "site": "disaster-recovery",
        },
    ]


def _core_banking() -> dict[str, object]:
    return {
        "name": "core-banking",
        "production_site": "production",
        "disaster_recovery_site": "disaster-recovery",
        "primary_store": "primary",
        "offsite_store": "offsite",
        "datasets": [
            {
                "name": "ledger",
                "engine": "sqlite",
                "category": "customer_data",
                "path": "ledger/ledger.db",
                "invariants": {"balance_equals_sum_of_postings": LEDGER_INVARIANT},
            },
            {"name": "config", "engine": "files", "category": "configuration", "path": "config"},
            {"name": "programs", "engine": "files", "category": "programs", "path": "programs"},
            {"name": "oplogs", "engine": "files", "category": "logs", "path": "logs"},
            {"name": "audit", "engine": "files", "category": "audit", "path": "audit"},
        ],
    }


def prepare_sandbox(base: Path = SANDBOX_DIR) -> Path:
    """Lay out a fresh sandbox under base and return the path of its dr.yml."""
    root = base.resolve()
    for stale in ("sites", "stores", "state"):
        shutil.rmtree(root / stale, ignore_errors=True)
    set_aside_previous_run(root.parent)
    for name, *_ in SITES:
        (root / "sites" / name / "data").mkdir(parents=True)
        (root / "sites" / name / "spool").mkdir(parents=True)
    (root / "sites" / "verification" / "enclave").mkdir(parents=True)
    for store in ("primary", "offsite"):
        (root / "stores" / store).mkdir(parents=True)
    (root.parent / "anchor").mkdir(parents=True, exist_ok=True)  # the anchor store's root
    (root / "inventory.ini").write_text(make_inventory(sys.executable), encoding="utf-8")
    config = make_config(root, sandbox_manifest_key(root))
    sandbox_kek(root / KEK_FILE)
    evidence = config["evidence"]
    assert isinstance(evidence, dict)
    evidence["trusted_fingerprints"] = [sandbox_signing_key(root / str(evidence["signing_key"]))]
    config_path = root / "dr.yml"
    text = "# Generated by `drctl drill run --sandbox`; regenerated on every sandbox drill.\n"
    text += yaml.safe_dump(
        config,
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )
    config_path.write_text(text, encoding="utf-8")
    return config_path


def set_aside_previous_run(home: Path) -> Path | None:
    """Given the directory holding the sandbox (`.dr`), move the previous run's evidence and
    anchors into `previous-runs/<UTC time>-<id>/` there and return it (None: nothing to move).
    Kept, so its packages still verify: `drctl -c .dr/sandbox/dr.yml evidence verify --chain
    .dr/previous-runs/<id>/evidence --anchor .dr/previous-runs/<id>/anchor/evidence-chain`."""
    kept = [home / name for name in ("evidence", "anchor") if (home / name).exists()]
    if not kept:
        return None
    aside = home / PREVIOUS_RUNS / sortable_id()
    aside.mkdir(parents=True)
    for path in kept:
        path.rename(aside / path.name)
    logger.warning("sandbox: the previous run's evidence and anchors are kept in %s", aside)
    return aside


def sandbox_manifest_key(root: Path) -> str:
    """Return the pinned public key of the sandbox's manifest signing key, creating the key
    on the first sandbox run (what `drctl keys create` does on a real site); it stays, like
    the evidence key, so points of earlier sandbox runs stay authenticated."""
    from orchestrator.evidence import sign

    path = (root / MANIFEST_KEY).resolve()
    key = sign.load_signing_key(path) if path.exists() else sign.create_signing_key(path)
    return sign.public_key_line(key)


def sandbox_signing_key(path: Path) -> str:
    """Given where the sandbox's evidence key lives, return its fingerprint, creating the key
    on first use. Only the sandbox does this, so `make drill` works from a fresh clone; a real
    site creates its key with `drctl evidence keygen` and check-config requires it."""
    from orchestrator.evidence import sign

    path = Path(os.path.normpath(path))
    if not path.exists():
        sign.create_signing_key(path)
        logger.warning("sandbox: created the evidence signing key %s", path)
    return sign.fingerprint(sign.load_signing_key(path))


def sandbox_kek(path: Path) -> None:
    """Create the sandbox's key-encryption key on first use (what `drctl keys create-kek` does
    on a real site); it stays, like the signing keys, so earlier sandbox points still open."""
    from orchestrator.integrations.envelope import create_file_kek

    path = Path(os.path.normpath(path))
    if not path.exists():
        create_file_kek(path)
        logger.warning("sandbox: created the key-encryption key %s", path)
