"""Load and validate the site config (dr.yml) and its Ansible inventory.

Every problem is reported at once, each with the path inside the file
(`systems[0].datasets[1].engine: expected one of …`). Relative paths in the config are
resolved against the config file's directory. Precedence: file < environment (AWS chain for S3
credentials) < command line. The schema itself is `orchestrator.model.settings`; the whole
site (config, rule pack, calendar) is loaded at once by `orchestrator.site.load_site`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from orchestrator.errors import InputError
from orchestrator.input_files import format_validation_errors, parse_yaml_file
from orchestrator.integrations.stores.base import StoreSettings
from orchestrator.model.live_data_stores import live_data_store_problems
from orchestrator.model.settings import Config
from orchestrator.topology import structural_problems


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

    def store_settings(self, name: str, rotation_seconds: float) -> StoreSettings:
        """Given a store name and the site's rotation period, return what opening it needs,
        with its paths resolved."""
        definition = self.model.store(name)
        index = next(i for i, store in enumerate(self.model.stores) if store.name == name)
        return StoreSettings(
            name=name,
            site=definition.site,
            url=self.store_url(name),
            source=str(self.path),
            where=f"stores[{index}]",
            rotation_seconds=rotation_seconds,
            endpoint_url=definition.endpoint_url,
            region=definition.region,
            profile=definition.profile,
            known_hosts=self.resolve(definition.known_hosts) if definition.known_hosts else None,
            private_key=self.resolve(definition.private_key) if definition.private_key else None,
        )

    def store_url(self, name: str) -> str:
        """Return a store's URL with a relative file:// path made absolute."""
        url = self.model.store(name).url
        if url.startswith("file://") and not url.startswith("file:///"):
            return "file://" + str(self.resolve(url[len("file://") :]))
        return url

    def store_urls(self) -> dict[str, str]:
        """Return every store's URL by name, relative file:// paths made absolute."""
        return {store.name: self.store_url(store.name) for store in self.model.stores}


# The catalog databases drctl opens (model/catalog.py): SQLite, and PostgreSQL with psycopg 3.
CATALOG_SCHEMES = ("sqlite:///", "postgresql://", "postgresql+psycopg://")


def catalog_url_problems(model: Config) -> list[str]:
    """Return why drctl cannot open catalog_url: a scheme SQLAlchemy cannot load ended every
    catalog command with "internal error … please report" (exit 3) after check-config passed
    it. Named by its scheme only: the URL may carry a password (docs/deploy.md)."""
    url = model.catalog_url
    if url is None or url.startswith(CATALOG_SCHEMES):
        return []
    scheme, separator, _ = url.partition("://")
    found = f"scheme {scheme!r}" if separator else "no scheme"
    return [
        "catalog_url: expected sqlite:///PATH or postgresql://[USER@]HOST[:PORT]/DATABASE, "
        f"got {found}"
    ]


def directory_problem(key: str, directory: Path) -> str | None:
    """Given a config key and the directory it names, return why that cannot be a directory —
    it, or a path above it, is a file — or None (an absent one is made when first needed).
    Said as a config error (exit 2) before any work, not as the OS's `File exists` (3)."""
    for path in (directory, *directory.parents):
        if path.is_dir():
            return None
        if path.exists():
            where = f"{directory}" if path == directory else f"{directory}: {path}"
            return f"{key}: {where} is not a directory; expected a directory"
    return None


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
    problems = structural_problems(model, loaded.store_url) + catalog_url_problems(model)
    problems += live_data_store_problems(model, loaded.store_url)
    if not loaded.inventory.is_file():
        problems.append(f"inventory: file {loaded.inventory} not found")
    if problems:
        raise InputError(str(path), problems)
    return loaded
