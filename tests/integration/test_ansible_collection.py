"""The dr.orchestrator collection reads and works as Ansible users expect: ansible-doc renders
every module and role, the documented options are the options the modules take, the roles
check their arguments, and an operator's own playbook runs them from an installed copy."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.ansible_cli import (
    BIN,
    COLLECTION,
    MODULES_DIR,
    PLAYBOOKS,
    ansible_env,
    run_playbook_cli,
)

MODULES = (
    "dr_artifacts",
    "dr_datasets",
    "dr_files",
    "dr_ledger",
    "dr_mariadb",
    "dr_pg_ledger",
    "dr_postgresql",
    "dr_replication",
    "dr_sqlite",
    "dr_wipe",
)
ROLES = ("datasets", "engine_files", "engine_mariadb", "engine_postgresql", "engine_sqlite")
ENGINE_ENTRY_POINTS = {"backup", "restore", "fingerprint", "destroy"}
EXAMPLE = PLAYBOOKS / "examples" / "app_backup.yml"

# Runs each module's main() with AnsibleModule.__init__ replaced by a recorder, so the keyword
# arguments a module really passes (argument_spec, required_if, supports_check_mode) come out
# as JSON, the way ansible-lint's args rule reads them. Run in a child Python so the import
# of the collection does not touch the test process.
SPEC_PROBE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
from ansible.module_utils import basic

class Recorded(Exception):
    pass

def record(self, *args, **kwargs):
    raise Recorded(kwargs)

basic.AnsibleModule.__init__ = record
out = {}
for name in sys.argv[2:]:
    module = importlib.import_module("ansible_collections.dr.orchestrator.plugins.modules." + name)
    try:
        module.main()
    except Recorded as recorded:
        kwargs = recorded.args[0]
    out[name] = {
        "argument_spec": kwargs["argument_spec"],
        "supports_check_mode": kwargs.get("supports_check_mode", False),
    }
print(json.dumps(out))
"""


def module_specs() -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", SPEC_PROBE, str(PLAYBOOKS / "collections"), *MODULES],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    specs: dict[str, Any] = json.loads(result.stdout)
    return specs


def documentation(module: str) -> dict[str, Any]:
    """Return the module's DOCUMENTATION, EXAMPLES and RETURN as ansible-doc --json gives them."""
    result = subprocess.run(
        [str(BIN / "ansible-doc"), "--json", "-M", str(MODULES_DIR), module],
        capture_output=True,
        text=True,
        timeout=120,
        env=ansible_env(config=False),
    )
    assert result.returncode == 0, result.stderr
    docs: dict[str, Any] = json.loads(result.stdout)[module]
    return docs


def test_the_collection_holds_exactly_the_known_modules_and_roles() -> None:
    assert tuple(sorted(path.stem for path in MODULES_DIR.glob("*.py"))) == MODULES
    assert tuple(sorted(path.name for path in (COLLECTION / "roles").iterdir())) == ROLES


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders_the_module_with_examples_and_return_values(
    module: str, tmp_path: Path
) -> None:
    # -M and nothing else: no ansible.cfg in the working directory, none in the environment.
    result = subprocess.run(
        [str(BIN / "ansible-doc"), "-M", str(MODULES_DIR), module],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=ansible_env(config=False),
    )
    assert result.returncode == 0, result.stderr
    assert "EXAMPLES" in result.stdout and "RETURN VALUES" in result.stdout
    docs = documentation(module)
    options = docs["doc"]["options"]
    assert options and all(option.get("description") for option in options.values())
    for name in options:
        assert name in result.stdout
    assert docs["doc"]["attributes"]["check_mode"]["support"] == "full"
    # dr_datasets returns one dr_result per dataset, in results (as a loop would).
    returned = docs["return"]
    if module == "dr_datasets":
        returned = returned["results"]["contains"]
    assert "dr_result" in returned
    for example in yaml.safe_load(docs["examples"]):
        assert f"dr.orchestrator.{module}" in example, example


def test_documented_options_are_the_options_each_module_takes() -> None:
    specs = module_specs()
    for module in MODULES:
        spec = specs[module]
        options = documentation(module)["doc"]["options"]
        assert spec["supports_check_mode"] is True, module
        assert set(options) == set(spec["argument_spec"]), module
        for name, taken in spec["argument_spec"].items():
            documented = options[name]
            assert documented.get("type", "str") == taken.get("type", "str"), (module, name)
            assert bool(documented.get("required")) == bool(taken.get("required")), (module, name)
            assert documented.get("default") == taken.get("default"), (module, name)
            assert documented.get("choices") == taken.get("choices"), (module, name)
            assert documented.get("elements") == taken.get("elements"), (module, name)


@pytest.mark.parametrize("role", ROLES)
def test_ansible_doc_renders_every_role_entry_point(role: str) -> None:
    result = subprocess.run(
        [str(BIN / "ansible-doc"), "--json", "-t", "role", f"dr.orchestrator.{role}"],
        cwd=PLAYBOOKS,  # found through playbooks/ansible.cfg, as an operator running it there
        capture_output=True,
        text=True,
        timeout=120,
        env=ansible_env(config=False),
    )
    assert result.returncode == 0, result.stderr
    entry_points = json.loads(result.stdout)[f"dr.orchestrator.{role}"]["entry_points"]
    expected = {"main"} if role == "datasets" else ENGINE_ENTRY_POINTS
    assert set(entry_points) == expected
    for entry_point in entry_points.values():
        assert entry_point["short_description"] and entry_point["options"]
        for name, option in entry_point["options"].items():
            assert option.get("description"), (role, name)
            assert name.startswith(f"{role}_"), (role, name)
    tasks = {path.stem for path in (COLLECTION / "roles" / role / "tasks").glob("*.yml")}
    assert tasks == expected


def write_playbook(path: Path, tasks: list[dict[str, Any]]) -> Path:
    play = {"name": "Role argument checks", "hosts": "localhost", "gather_facts": False}
    path.write_text(yaml.safe_dump([{**play, "tasks": tasks}], sort_keys=False))
    return path


def test_roles_refuse_a_dataset_their_argument_specs_do_not_allow(tmp_path: Path) -> None:
    untouched = tmp_path / "live"
    untouched.mkdir()
    (untouched / "keep").write_text("live data")
    cases = {
        "missing": (
            {
                "name": "Back up a files dataset without its live path",
                "ansible.builtin.include_role": {
                    "name": "dr.orchestrator.engine_files",
                    "tasks_from": "backup",
                },
                "vars": {"engine_files_dataset": {"name": "x", "spool": str(tmp_path / "s")}},
            },
            "missing required arguments: live_path",
        ),
        "unknown engine": (
            {
                "name": "Destroy a dataset of an engine with no role",
                "ansible.builtin.include_role": {"name": "dr.orchestrator.datasets"},
                "vars": {
                    "datasets_action": "destroy",
                    "datasets_list": [
                        {"name": "keep", "engine": "files", "live_path": str(untouched)},
                        {"name": "odd", "engine": "oracle"},
                    ],
                },
            },
            "no engine role for: odd",
        ),
    }
    for case, (task, message) in cases.items():
        playbook = write_playbook(tmp_path / "play.yml", [task])
        result = run_playbook_cli(playbook, cwd=PLAYBOOKS, env=ansible_env(config=False))
        assert result.returncode != 0, case
        assert message in result.stdout, (case, result.stdout)
    assert (untouched / "keep").read_text() == "live data"  # nothing ran before the check


def make_app(root: Path) -> Path:
    """Create the example's application data: a small ledger and a configuration tree."""
    (root / "config" / "conf.d").mkdir(parents=True)
    (root / "config" / "app.conf").write_text("listen = 8443\n")
    (root / "config" / "conf.d" / "limits.conf").write_text("max_postings = 500\n")
    connection = sqlite3.connect(root / "ledger.db")
    connection.executescript(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance_cents INTEGER NOT NULL);"
        "CREATE TABLE postings (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL,"
        " amount_cents INTEGER NOT NULL);"
        "INSERT INTO accounts VALUES (1, 700), (2, -50);"
        "INSERT INTO postings (account_id, amount_cents) VALUES (1, 500), (1, 200), (2, -50);"
    )
    connection.commit()
    connection.close()
    return root


def install_collection(tmp_path: Path) -> Path:
    """Build the collection and install the tarball as an operator would; return the path."""
    dist, installed = tmp_path / "dist", tmp_path / "collections"
    galaxy = str(BIN / "ansible-galaxy")
    env = ansible_env(config=False)
    built = subprocess.run(
        [galaxy, "collection", "build", str(COLLECTION), "--output-path", str(dist)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (tarball,) = dist.glob("dr-orchestrator-*.tar.gz")
    done = subprocess.run(
        [galaxy, "collection", "install", "--offline", "-p", str(installed), str(tarball)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return installed


def test_an_operator_playbook_runs_the_roles_from_an_installed_collection(
    tmp_path: Path,
) -> None:
    installed = install_collection(tmp_path)
    operator = tmp_path / "operator"
    operator.mkdir()
    playbook = Path(shutil.copy(EXAMPLE, operator / "app_backup.yml"))
    app, spool = make_app(tmp_path / "app"), tmp_path / "spool"
    env = ansible_env({"ANSIBLE_COLLECTIONS_PATH": str(installed)}, config=False)
    extra = ["-e", "app_hosts=localhost", "-e", f"app_data={app}", "-e", f"app_spool={spool}"]

    checked = run_playbook_cli(playbook, *extra, "--check", cwd=operator, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not spool.exists()  # check mode wrote nothing

    done = run_playbook_cli(playbook, *extra, cwd=operator, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (spool / "ledger" / "data" / "ledger.db").is_file()
    assert (spool / "config" / "data" / "conf.d" / "limits.conf").read_text() == (
        "max_postings = 500\n"
    )

    # A balance that no longer equals its postings breaks the example's invariant: the
    # playbook's own check must fail on it.
    connection = sqlite3.connect(app / "ledger.db")
    connection.execute("UPDATE accounts SET balance_cents = 1 WHERE id = 2")
    connection.commit()
    connection.close()
    broken = run_playbook_cli(playbook, *extra, cwd=operator, env=env)
    assert broken.returncode != 0
    assert "differs from the live one, or breaks an invariant" in broken.stdout
