"""Load and validate the site config (dr.yml) and its Ansible inventory.

Every problem is reported at once, each with the path inside the file
(`systems[0].datasets[1].engine: expected one of …`). Relative paths in the config are
resolved against the config file's directory. Precedence: file < environment (AWS chain for S3
credentials) < command line.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.errors import InputError
from orchestrator.topology import duplicate_problems, structural_problems

# libyaml's C loader when present: the rule pack and configs parse several times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ENGINES = ("files", "sqlite", "postgresql", "mariadb")
CATEGORIES = ("programs", "customer_data", "configuration", "logs", "audit", "accounting_changes")
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Verification(_Model):
    offsite_share: float = Field(default=0.3, ge=0, le=1, description="Share read from off-site")
    population: Literal["in_rotation", "since_last_check"] = "in_rotation"


class Attestation(_Model):
    """A manually attested control (e.g. UPS runtime), with its document and expiry."""

    rule: str = Field(description="Rule id it evidences", examples=["power.ups"])
    subject: str = Field(description="Site or system it covers", examples=["production"])
    document: str = Field(description="Document reference", examples=["UPS-2026-03 放电测试报告"])
    date: datetime.date = Field(description="Date of the test or attestation")
    expires: datetime.date = Field(description="Date after which it no longer counts")
    measured: float | None = Field(default=None, description="Measured value (e.g. 4.5 hours)")


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
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def system(self, name: str) -> System:
        return next(system for system in self.systems if system.name == name)

    def site(self, name: str) -> Site:
        return next(site for site in self.sites if site.name == name)

    def store(self, name: str) -> Store:
        return next(store for store in self.stores if store.name == name)


class LoadedConfig:
    """A validated config with the file it came from, resolving relative paths against it."""

    def __init__(self, model: Config, path: Path) -> None:
        self.model = model
        self.path = path
        self.base = path.parent

    def resolve(self, value: str) -> Path:
        candidate = Path(value).expanduser()
        return Path(
            os.path.normpath(candidate if candidate.is_absolute() else self.base / candidate)
        )

    @property
    def state_dir(self) -> Path:
        return self.resolve(self.model.state_dir)

    @property
    def catalog_url(self) -> str:
        if self.model.catalog_url:
            return self.model.catalog_url
        return f"sqlite:///{self.state_dir / 'catalog.sqlite'}"

    @property
    def inventory(self) -> Path:
        return self.resolve(self.model.inventory)

    @property
    def evidence_dir(self) -> Path:
        return self.resolve(self.model.evidence.directory)

    @property
    def signing_key(self) -> Path:
        return self.resolve(self.model.evidence.signing_key)

    def store_url(self, name: str) -> str:
        """Return a store's URL with a relative file:// path made absolute."""
        url = self.model.store(name).url
        if url.startswith("file://") and not url.startswith("file:///"):
            return "file://" + str(self.resolve(url[len("file://") :]))
        return url


def format_location(location: Sequence[str | int]) -> str:
    """Given a pydantic error location, return `systems[0].datasets[1].engine`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def format_validation_errors(error: ValidationError) -> list[str]:
    """Given a pydantic ValidationError, return one line per problem with its path."""
    problems = []
    for item in error.errors():
        location = [part for part in item["loc"] if not str(part).startswith("function-")]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "literal_error":
            message = "expected " + message.removeprefix("Input should be ")
        elif item["type"] == "extra_forbidden":
            message = "unknown key (not allowed here)"
        elif item["type"] == "missing":
            message = "required key is missing"
        for piece in message.split("; "):
            problems.append(f"{format_location(location)}: {piece}")
    return problems


def parse_yaml_file(path: Path) -> Any:
    """Read a YAML file, raising InputError with the line of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise InputError(str(path), ["file not found"]) from error
    except OSError as error:
        raise InputError(str(path), [f"cannot read: {error.strerror}"]) from error
    try:
        return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(parse)"
        raise InputError(str(path), [f"{where}: invalid YAML: {error}"]) from error


def load_config(path: Path) -> LoadedConfig:
    """Given the path of dr.yml, return the validated config. Raise InputError listing every
    problem (exit 2); nothing is written anywhere."""
    data = parse_yaml_file(path)
    if not isinstance(data, dict):
        raise InputError(str(path), ["(top level): expected a mapping of settings"])
    try:
        model = Config.model_validate(data)
    except ValidationError as error:
        raise InputError(str(path), format_validation_errors(error)) from error
    loaded = LoadedConfig(model, path.resolve())
    problems = structural_problems(model, loaded.store_url)
    if not loaded.inventory.is_file():
        problems.append(f"inventory: file {loaded.inventory} not found")
    if problems:
        raise InputError(str(path), problems)
    return loaded
