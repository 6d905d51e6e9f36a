"""What drctl ships besides code: the playbooks and the dr.orchestrator collection, the rule
pack (playbooks/rules/pack.yml) and the drill scenarios.

In a checkout these are the top-level `playbooks/` and `drills/` (this package holds symlinks
to them); a wheel carries copies as package data (pyproject.toml). Either way they are found
through importlib.resources, never by counting parent directories of a source file.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Return the filesystem path of a shipped file or directory, e.g.
    resource_path("playbooks", "rules", "pack.yml"). Ansible needs real paths, and both a
    checkout and an installed wheel keep these on disk."""
    return Path(str(files(__name__).joinpath(*parts)))
