"""What dr.yml may say: the site's settings as a pydantic v2 schema (sites, stores, systems,
datasets, network paths, attestations, …).

The vocabulary every layer shares: `orchestrator.config` reads a file into these models, the
layers below actions receive them as values. Every model is frozen and rejects unknown keys.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Discriminator, Field, Tag, model_validator

from orchestrator.model.config_model import ConfigModel
from orchestrator.model.encryption_settings import EncryptionSettings
from orchestrator.model.replication_settings import Replication, replication_problems
from orchestrator.topology import duplicate_problems

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
# An ed25519 public key as base64 DER SubjectPublicKeyInfo: the body of its PEM, one line.
PUBLIC_KEY_PATTERN = r"^MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=$"
FINGERPRINT_PATTERN = r"^[0-9a-f]{64}$"


_Model = ConfigModel


class Site(_Model):
    """A data centre: production, disaster recovery, or a vault."""

    name: str = Field(pattern=NAME_PATTERN, description="Site id", examples=["production"])
    role: Literal["production", "disaster_recovery", "vault"] = Field(
        description="What the site is for"
    )
    host: str = Field(description="Inventory host that holds the data at this site")
    data_root: str = Field(
        description="Directory under which file-based datasets live at this site",
        examples=["/srv/core-banking"],
    )
    spool: str = Field(
        description="Scratch directory on the site's host for dumps and restores in flight",
        examples=["/var/spool/dr"],
    )
    city: str | None = Field(default=None, description="City, for the off-site register")
    sandbox: bool = Field(
        default=False,
        description="A synthetic site (the embedded sandbox): drills may seed, write postings "
        "and destroy data here. Never set it on a site that holds real data.",
    )


class Store(_Model):
    """Where recovery points are kept: a directory, an S3 bucket, or an SFTP path."""

    name: str = Field(pattern=NAME_PATTERN, examples=["primary"])
    url: str = Field(
        description="file:///path, s3://bucket/prefix or sftp://user@host/path",
        examples=["file:///srv/dr-store"],
    )
    site: str = Field(description="Site the store is physically at")
    endpoint_url: str | None = Field(default=None, description="S3 endpoint (non-AWS)")
    region: str | None = Field(default=None, description="S3 region")
    profile: str | None = Field(default=None, description="AWS profile name for credentials")
    known_hosts: str | None = Field(default=None, description="known_hosts file for sftp://")
    private_key: str | None = Field(default=None, description="SSH private key file for sftp://")

    @model_validator(mode="after")
    def _check_url(self) -> Store:
        for key, value in (("url", self.url), ("endpoint_url", self.endpoint_url)):
            parts = urlsplit(value or "")
            if parts.password is not None:
                # A URL is logged, recorded in the catalog and quoted in evidence and errors:
                # a password in it would be everywhere. Named without its value.
                host = parts.netloc.rpartition("@")[2]
                raise ValueError(
                    f"{key} {parts.scheme}://{parts.username}:***@{host}…: expected no "
                    "password in a URL (S3 credentials come from profile or the AWS_* "
                    "variables, an SFTP login from private_key)"
                )
        if not re.match(r"^(file|s3|sftp)://.+", self.url):
            raise ValueError(
                f"url {self.url!r}: expected file://PATH, s3://BUCKET[/PREFIX] "
                "or sftp://USER@HOST/PATH"
            )
        return self


class Dataset(_Model):
    """One thing that is backed up in full: a database or a directory tree."""

    name: str = Field(pattern=NAME_PATTERN, examples=["ledger"])
    engine: Literal["files", "sqlite", "postgresql", "mariadb"] = Field(
        description="How to dump, restore and fingerprint it"
    )
    category: Literal[
        "programs", "customer_data", "configuration", "logs", "audit", "accounting_changes"
    ] = Field(description="Data category (网上基金销售信息系统技术指引 第六十五条; 260号 第六条)")
    path: str | None = Field(
        default=None,
        description="files/sqlite: path relative to the site's data_root",
        examples=["ledger/ledger.db"],
    )
    database: str | None = Field(default=None, description="postgresql/mariadb: database name")
    port: int | None = Field(default=None, description="postgresql/mariadb: server port")
    user: str | None = Field(default=None, description="postgresql/mariadb: login user")
    password_env: str | None = Field(
        default=None, description="Name of the environment variable holding the DB password"
    )
    invariants: Mapping[str, str] = Field(
        default_factory=dict,
        description="Named SQL queries that must return no rows after a restore",
    )

    @model_validator(mode="after")
    def _check_engine_params(self) -> Dataset:
        if self.engine in ("files", "sqlite") and not self.path:
            raise ValueError(
                f"engine {self.engine} needs 'path' (relative to the site's data_root)"
            )
        if self.engine in ("postgresql", "mariadb") and not self.database:
            raise ValueError(f"engine {self.engine} needs 'database'")
        if self.path and (self.path.startswith("/") or ".." in Path(self.path).parts):
            raise ValueError(f"path {self.path!r}: expected a relative path without '..'")
        return self


class System(_Model):
    """A business system (e.g. core banking) and the datasets that make it up."""

    name: str = Field(pattern=NAME_PATTERN, examples=["core-banking"])
    production_site: str
    disaster_recovery_site: str
    primary_store: str = Field(description="Store at the production site")
    offsite_store: str = Field(description="Store at another site (异地保存)")
    datasets: Sequence[Dataset] = Field(min_length=1)
    restore_time_objective_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Time within which a restore of one dataset must finish (R140: the "
        "bank's restore procedure); judged by restore.duration",
    )
    replication: Replication | None = Field(
        default=None, description="Mirroring between the centres (第十一条), probed and judged"
    )


class Calendar(_Model):
    overrides: str | None = Field(default=None, description="YAML file of holidays/make-up days")
    business_date_cutoff_hour: int = Field(
        default=6,
        ge=0,
        le=12,
        description="A backup finishing before this hour (Asia/Shanghai) belongs to the day before",
    )


class Evidence(_Model):
    directory: str = Field(default="evidence", description="Where evidence packages are written")
    signing_key: str = Field(default="keys/evidence-ed25519.pem", description="ed25519 key (0600)")
    accountable_person: str | None = Field(
        default=None, description="数据集中安全工作第一责任人, named in every report (R1)"
    )
    trusted_fingerprints: Sequence[Annotated[str, Field(pattern=FINGERPRINT_PATTERN)]] = Field(
        default=(),
        description="sha256 fingerprints of the signing keys whose packages are trusted "
        "(`drctl evidence keygen` prints the new key's); the current key's must be one",
    )
    retired_fingerprints: Sequence[Annotated[str, Field(pattern=FINGERPRINT_PATTERN)]] = Field(
        default=(),
        description="sha256 fingerprints of rotated-out signing keys: trusted only for the "
        "packages before the first one a key of trusted_fingerprints signed, in chain order",
    )
    anchor_store: str | None = Field(
        default=None,
        description="Store that keeps each package's manifest digest write-once "
        "(default: the off-site store all systems share)",
    )
    anchor_prefix: str = Field(
        default="evidence-chain",
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}(/[a-z0-9][a-z0-9_.-]{0,62})*$",
        description="Key prefix of the anchor objects; one per evidence directory",
    )
    anchor_retention_days: int = Field(
        default=3653, ge=366, le=36600, description="COMPLIANCE lock of each anchor object"
    )

    @model_validator(mode="after")
    def _check_retired(self) -> Evidence:
        both = sorted(set(self.trusted_fingerprints) & set(self.retired_fingerprints))
        if both:
            raise ValueError(
                f"retired_fingerprints: {', '.join(both)} is also in trusted_fingerprints (a "
                "key is either current or retired)"
            )
        return self


class RetiredPublicKey(_Model):
    """A rotated-out manifest public key with the time it was rotated out: a point it signed
    that finished after that time is not trusted (docs/verification.md §10)."""

    public_key: str = Field(
        pattern=PUBLIC_KEY_PATTERN,
        description="base64 DER SubjectPublicKeyInfo (MCowBQYDK2VwAyEA…)",
    )
    retired_at: datetime.datetime = Field(
        description="When it was rotated out, with a time zone (2027-01-05T09:00:00+08:00)"
    )

    @model_validator(mode="after")
    def _check_time_zone(self) -> RetiredPublicKey:
        if self.retired_at.tzinfo is None or self.retired_at.utcoffset() is None:
            raise ValueError(
                f"retired_at {self.retired_at.isoformat()}: expected a time zone (Z or +08:00)"
            )
        return self


def _retired_key_form(value: Any) -> str:
    """Given an entry of retired_public_keys, return its form: a plain key line, or a mapping."""
    return "key" if isinstance(value, str) else "dated"


# A plain key line (trusted for every point it signed), or a key with its retirement time.
RetiredKeyEntry = Annotated[
    Annotated[str, Field(pattern=PUBLIC_KEY_PATTERN), Tag("key")]
    | Annotated[RetiredPublicKey, Tag("dated")],
    Discriminator(_retired_key_form),
]


class ManifestSigning(_Model):
    """The site's ed25519 key that signs every recovery-point manifest drctl writes
    (`manifest.json.sig` beside `manifest.json`), and the public keys trusted to have signed
    one. Created by `drctl keys create`; docs/verification.md §10."""

    key: str = Field(
        default="keys/manifest-ed25519.pem",
        description="Private key (PEM PKCS#8, mode 0600) that signs new manifests",
    )
    public_key: str | None = Field(
        default=None,
        pattern=PUBLIC_KEY_PATTERN,
        description="The pinned public key: base64 DER SubjectPublicKeyInfo (MCowBQYDK2VwAyEA…)",
    )
    retired_public_keys: Sequence[RetiredKeyEntry] = Field(
        default=(),
        description="Earlier public keys still trusted for points they signed: a key, or "
        "{public_key, retired_at} to trust it only for points that finished by that time",
    )


class Verification(_Model):
    offsite_share: float = Field(default=0.3, ge=0, le=1, description="Share read from off-site")
    population: Literal["in_rotation", "since_last_check"] = "in_rotation"
    restore_concurrency: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Systems a validity check restores into the enclave at once (each into "
        "its own directory)",
    )


class Attestation(_Model):
    """A manually attested control (e.g. UPS runtime), with its document and expiry."""

    rule: str = Field(description="Rule id it evidences", examples=["power.ups"])
    subject: str = Field(description="Site or system it covers", examples=["production"])
    document: str = Field(description="Document reference", examples=["UPS-2026-03 放电测试报告"])
    date: datetime.date = Field(description="Date of the test or attestation")
    expires: datetime.date = Field(description="Date after which it no longer counts")
    measured: float | None = Field(default=None, description="Measured value (e.g. 4.5 hours)")
    attester: str | None = Field(
        default=None,
        description="Who attests (name and role)",
        examples=["张三 (信息科技部总经理)"],
    )
    applicable: bool = Field(
        default=True,
        description="false: the document shows the clause does not apply (e.g. no external "
        "DR provider); judged 不适用",
    )


class Retention(_Model):
    require_approver: bool = Field(
        default=False, description="T/TJSFB 009 §8 b: destruction needs a named approver"
    )


class NetworkPath(_Model):
    """A network path whose availability 第五条 judges (DC↔DR link, clearing link, …)."""

    name: str = Field(pattern=NAME_PATTERN, examples=["dc-dr-link"])
    kind: Literal["tcp", "http", "icmp", "prometheus"] = "tcp"
    target: str = Field(
        description="host:port (tcp), URL (http), host (icmp), or the "
        "blackbox `instance` label (prometheus)"
    )
    interval_seconds: float = Field(default=15, gt=0, le=15, description="≤ 15 s (A9)")
    timeout_seconds: float = Field(default=3, gt=0, le=15)
    failures_to_open: int = Field(default=2, ge=2, description="consecutive failures (A9)")
    merge_gap_seconds: float = Field(
        default=0, ge=0, description="recoveries shorter than this merge outages"
    )
    vantages: Sequence[str] = Field(default=("local",), min_length=1)


class Network(_Model):
    paths: Sequence[NetworkPath] = ()
    prometheus_url: str | None = Field(
        default=None, description="Prometheus with blackbox probe_success, for kind prometheus"
    )


class Config(_Model):
    """The whole site config."""

    version: Literal[1] = 1
    state_dir: str = Field(default="state", description="Catalog, keys and scratch state")
    catalog_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<state_dir>/catalog.sqlite"
    )
    inventory: str = Field(description="Ansible inventory (INI or YAML)")
    calendar: Calendar = Field(default_factory=Calendar)
    evidence: Evidence = Field(default_factory=Evidence)
    verification: Verification = Field(default_factory=Verification)
    manifest_signing: ManifestSigning | None = Field(
        default=None, description="Sign recovery-point manifests with the site's key"
    )
    encryption: EncryptionSettings | None = Field(
        default=None, description="Encrypt new recovery points (absent: written in clear)"
    )
    sites: Sequence[Site] = Field(min_length=2)
    stores: Sequence[Store] = Field(min_length=1)
    systems: Sequence[System] = Field(min_length=1)
    rules: Mapping[str, Mapping[str, Any]] = Field(
        default_factory=dict, description="Stricter thresholds per rule id (never weaker)"
    )
    attestations: Sequence[Attestation] = ()
    retention: Retention = Field(default_factory=Retention)
    network: Network = Field(default_factory=Network)

    @model_validator(mode="after")
    def _check_references(self) -> Config:
        duplicates = duplicate_problems(self)
        if duplicates:  # references would resolve to one definition and the runtime to another
            raise ValueError("; ".join(duplicates))
        problems = []
        site_names = {site.name for site in self.sites}
        store_sites = {store.name: store.site for store in self.stores}
        for index, store in enumerate(self.stores):
            if store.site not in site_names:
                problems.append(f"stores[{index}].site: unknown site {store.site!r}")
        for index, system in enumerate(self.systems):
            where = f"systems[{index}]"
            for field in ("production_site", "disaster_recovery_site"):
                if getattr(system, field) not in site_names:
                    problems.append(f"{where}.{field}: unknown site {getattr(system, field)!r}")
            for field in ("primary_store", "offsite_store"):
                if getattr(system, field) not in store_sites:
                    problems.append(f"{where}.{field}: unknown store {getattr(system, field)!r}")
            offsite_site = store_sites.get(system.offsite_store)
            if offsite_site is not None and offsite_site == system.production_site:
                problems.append(
                    f"{where}.offsite_store: store {system.offsite_store!r} is at the production "
                    f"site {offsite_site!r}; 260号 第七条 「备份数据要实行异地保存」 "
                    "needs another site"
                )
            names = [dataset.name for dataset in system.datasets]
            for duplicate in sorted({n for n in names if names.count(n) > 1}):
                problems.append(f"{where}.datasets: duplicate dataset name {duplicate!r}")
        problems += replication_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def system(self, name: str) -> System:
        return next(system for system in self.systems if system.name == name)

    def site(self, name: str) -> Site:
        return next(site for site in self.sites if site.name == name)

    def store(self, name: str) -> Store:
        return next(store for store in self.stores if store.name == name)
