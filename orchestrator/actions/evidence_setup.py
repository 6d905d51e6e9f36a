"""A site's evidence settings, checked before anything is written, and the one way a command
writes a package for the site. An action helper: it joins the site's config, its stores and the
evidence package writer, which itself knows none of them (docs/architecture.md).

`evidence_problems` (offline) and `anchor_problems` (asks the anchor store) say everything
missing at once; `check-config` reports them, and `prepare_evidence` raises them as exit 2 at
the start of every command that will write evidence, so no run starts that could not be
evidenced:

* `evidence.accountable_person` (第一责任人, 260号 第一条 / R1): required, no placeholder;
* `evidence.signing_key`: must exist (`drctl evidence keygen` creates it; nothing else does);
* `evidence.trusted_fingerprints`: must pin that key's fingerprint, so `evidence verify`
  can tell this site's packages from anybody else's;
* `evidence.directory`: a directory, or absent (made when the first package is written);
  a file there is refused before any work;
* the anchor store (`evidence.anchor_store`, else the off-site store every system shares):
  an `s3://` store whose bucket has Object Lock, or a `file://` store (read-only files, the
  weaker guarantee). SFTP stores cannot hold a write-once anchor.

A chain.jsonl that cannot be read (its last line cut short by a crash or a full disk) stops
them too, as exit 3 (evidence/chain.py ChainUnreadable), before any work.

`write_site_package` is what drill, verify and report call: it records the operator, the
versions and the calendar (evidence/provenance.py), names the configured accountable person
and writes the chain's anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.config import LoadedConfig, directory_problem
from orchestrator.errors import InputError
from orchestrator.evidence import sign
from orchestrator.evidence.anchor import Anchor, FileAnchor, S3Anchor
from orchestrator.evidence.chain import read_chain
from orchestrator.evidence.layout import CHAIN
from orchestrator.evidence.package import Package, write_package
from orchestrator.evidence.provenance import calendar_source, operator_identity, software_versions
from orchestrator.rules.workdays import package_version, package_years

KEYGEN_HINT = "create it with `drctl evidence keygen`"


@dataclass(frozen=True)
class EvidenceSetup:
    """A site's checked evidence settings."""

    directory: Path
    signing_key: Path
    accountable_person: str
    trust: Mapping[str, str]
    anchor: Anchor
    retired: Mapping[str, str] = field(default_factory=dict)


def pinned_trust(config: LoadedConfig) -> dict[str, str]:
    """Return the fingerprints dr.yml pins, each labelled with where it is pinned."""
    return {
        fingerprint: f"{config.path} evidence.trusted_fingerprints[{index}]"
        for index, fingerprint in enumerate(config.model.evidence.trusted_fingerprints)
    }


def pinned_retired(config: LoadedConfig) -> dict[str, str]:
    """Return the retired fingerprints dr.yml lists, each labelled with where: trusted only
    for the packages before the first one a current key signed (evidence/chain_check.py)."""
    return {
        fingerprint: f"{config.path} evidence.retired_fingerprints[{index}] (retired)"
        for index, fingerprint in enumerate(config.model.evidence.retired_fingerprints)
    }


def anchor_store_name(config: LoadedConfig) -> str | None:
    """Return the anchor store's name: evidence.anchor_store, else the one off-site store all
    systems share (None when they do not share one)."""
    if config.model.evidence.anchor_store:
        return config.model.evidence.anchor_store
    offsite = {system.offsite_store for system in config.model.systems}
    return offsite.pop() if len(offsite) == 1 else None


def evidence_problems(config: LoadedConfig) -> list[str]:
    """Given the config, return every problem that would stop evidence being written (offline:
    the anchor store is not asked; see anchor_problems). Raise ChainUnreadable (exit 3) when
    the chain cannot be read (a line cut short by a crash or a full disk): no package could be
    chained, so no command that writes one starts."""
    read_chain(config.evidence_dir / CHAIN)
    section = config.model.evidence
    unusable = directory_problem("evidence.directory", config.evidence_dir)
    problems = [] if unusable is None else [unusable]
    if not (section.accountable_person or "").strip():
        problems.append(
            "evidence.accountable_person: required: the name of the 数据集中安全工作第一责任人 "
            "(260号 第一条, R1); no evidence package is written without it"
        )
    problems.extend(_key_problems(config))
    store = anchor_store_name(config)
    stores = {definition.name: definition for definition in config.model.stores}
    if store is None:
        problems.append(
            "evidence.anchor_store: required when the systems use different off-site stores: "
            "name the store that keeps the chain's write-once anchor"
        )
    elif store not in stores:
        problems.append(f"evidence.anchor_store: unknown store {store!r}")
    elif not config.store_url(store).startswith(("s3://", "file://")):
        problems.append(
            f"evidence.anchor_store: store {store!r} is {config.store_url(store).split(':')[0]}"
            "://; the anchor needs an s3:// store with Object Lock (or a file:// store)"
        )
    return problems


def _key_problems(config: LoadedConfig) -> list[str]:
    path = config.signing_key
    pinned = config.model.evidence.trusted_fingerprints
    if not path.is_file():
        return [
            f"evidence.signing_key: {path} does not exist; {KEYGEN_HINT} and pin the "
            "fingerprint it prints in evidence.trusted_fingerprints"
        ]
    try:
        fingerprint = sign.fingerprint(sign.load_signing_key(path))
    except (OSError, ValueError) as error:
        return [f"evidence.signing_key: {error}"]
    if fingerprint in config.model.evidence.retired_fingerprints:
        return [
            f"evidence.signing_key: {path} has fingerprint {fingerprint}, which is in "
            "evidence.retired_fingerprints; a retired key signs no new package (point "
            "signing_key at the current key)"
        ]
    if fingerprint in pinned:
        return []
    if not pinned:
        return [
            f"evidence.trusted_fingerprints: pin the signing key's fingerprint {fingerprint} "
            f"(of {path}), so `drctl evidence verify` trusts this site's packages"
        ]
    return [
        f"evidence.signing_key: {path} has fingerprint {fingerprint}, which is not in "
        "evidence.trusted_fingerprints; packages it signs would not be trusted"
    ]


def evidence_key(config: LoadedConfig) -> Ed25519PrivateKey:
    """Return the site's evidence signing key, checked as `prepare_evidence` checks it (it
    exists, is pinned, is not retired); raise InputError (exit 2) naming what is wrong."""
    problems = _key_problems(config)
    if problems:
        raise InputError(str(config.path), problems)
    return sign.load_signing_key(config.signing_key)


def open_anchor(config: LoadedConfig) -> Anchor:
    """Return the anchor of the site's chain, its Object Lock checked on S3. Raise InputError
    when the store cannot hold write-once anchors, InfrastructureError when it is down."""
    from orchestrator.integrations.stores import open_store
    from orchestrator.integrations.stores.file import FileStore
    from orchestrator.integrations.stores.s3 import S3Store

    name = anchor_store_name(config)
    section = config.model.evidence
    # Anchors carry their own retention (anchor_retention_days), not the rotation period.
    store = open_store(config.store_settings(name, 0.0)) if name else None
    if isinstance(store, S3Store):
        anchor = S3Anchor(store, section.anchor_prefix, section.anchor_retention_days)
        anchor.require_object_lock()
        return anchor
    if isinstance(store, FileStore):
        return FileAnchor(store.root / section.anchor_prefix)
    raise InputError(str(config.path), [f"evidence.anchor_store: {name!r} cannot hold anchors"])


def evidence_setup_problems(config: LoadedConfig) -> list[str]:
    """Return every problem with the site's evidence settings, asking the anchor store too
    (for check-config). Raise InfrastructureError when the anchor store is down."""
    problems = evidence_problems(config)
    if not problems:
        try:
            open_anchor(config)
        except InputError as error:
            problems = list(error.problems)
    return problems


def refuse_unevidenced(config: LoadedConfig) -> None:
    """Raise, before the catalog is opened, when no package could be written: InputError
    (exit 2) for incomplete evidence settings, ChainUnreadable (exit 3) for a chain.jsonl cut
    short. Offline: the anchor store may be one of the stores the scan finds unreachable."""
    problems = evidence_problems(config)
    if problems:
        raise InputError(str(config.path), problems)


def prepare_evidence(config: LoadedConfig) -> EvidenceSetup:
    """Given the config, return its evidence settings, or raise InputError (exit 2) naming
    everything missing (InfrastructureError, exit 3, when the anchor store is down). Call it
    before a command writes anything."""
    problems = evidence_problems(config)
    if problems:
        raise InputError(str(config.path), problems)
    return EvidenceSetup(
        directory=config.evidence_dir,
        signing_key=config.signing_key,
        accountable_person=str(config.model.evidence.accountable_person).strip(),
        trust=pinned_trust(config),
        anchor=open_anchor(config),
        retired=pinned_retired(config),
    )


def site_provenance(config: LoadedConfig) -> dict[str, Any]:
    """Return what every package of this site records: operator, versions, calendar."""
    from orchestrator.integrations.ansible import PLAYBOOK_DIR

    overrides = config.model.calendar.overrides
    return {
        "operator": operator_identity(),
        "versions": software_versions(PLAYBOOK_DIR),
        "calendar": calendar_source(
            config.resolve(overrides) if overrides else None, package_version(), package_years()
        ),
    }


def write_site_package(
    config: LoadedConfig,
    kind: str,
    report: Mapping[str, Any],
    attachments: Mapping[str, Path],
    now: datetime | None = None,
    pdf: Callable[[str], bytes] | None = None,
) -> Package:
    """Write a package for the site: its accountable person, provenance, key and anchor
    (and report.pdf printed from report.html by `pdf`, when given).

    Raise InputError (exit 2) when the site's evidence settings are incomplete, ValueError
    when the report or an attachment is refused (see write_package).
    """
    setup = prepare_evidence(config)
    return write_package(
        setup.directory,
        kind,
        {**report, "accountable_person": setup.accountable_person},
        attachments,
        setup.signing_key,
        now,
        provenance=site_provenance(config),
        anchor=setup.anchor,
        pdf=pdf,
    )
