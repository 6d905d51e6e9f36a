"""Pure parts of evidence packages: secret scan, paths, manifest lines, chain links, rendering."""

from __future__ import annotations

import hashlib
import json
import math
import re
import tarfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.actions.evidence_setup import (
    anchor_store_name,
    evidence_problems,
    prepare_evidence,
)
from orchestrator.actions.sandbox import make_config, make_inventory
from orchestrator.config import LoadedConfig, load_config
from orchestrator.errors import InputError
from orchestrator.evidence import sign
from orchestrator.evidence.anchor import AnchorRecord
from orchestrator.evidence.chain import (
    ChainEntry,
    chain_line,
    check_chain_links,
    check_package_in_chain,
)
from orchestrator.evidence.chain_check import compare_anchors
from orchestrator.evidence.content import check_report, encode_report
from orchestrator.evidence.layout import ZERO_DIGEST, make_package_name, validate_attachment_path
from orchestrator.evidence.manifest_lines import ManifestEntry, make_manifest, parse_manifest
from orchestrator.evidence.provenance import playbook_files, playbooks_digest
from orchestrator.evidence.render import render_report_html
from orchestrator.evidence.secret_scan import find_secrets
from orchestrator.evidence.tarball_extract import check_tar_members
from orchestrator.evidence.target_versions import target_system_versions
from orchestrator.secret_names import is_secret_name as is_secret_key

DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


def drill_report() -> dict[str, object]:
    return {
        "kind": "drill",
        "id": "drill-1",
        "title": {"zh": "年度灾备切换演练", "en": "Yearly failover drill"},
        "outcome": "failed",
        "accountable_person": "王主任",
        "scenario": {"name": "site-loss", "description": "<b>lose</b> site A", "file": "x.yml"},
        "measurements": [
            {"name": "rto_seconds", "label": {"zh": "恢复时间", "en": "RTO"}, "value": 12.5}
        ],
        "steps": [
            {"name": "restore", "status": "failed", "duration_seconds": 3.25, "message": "boom"},
            {"name": "cleanup", "status": "skipped"},
        ],
        "findings": [
            {
                "rule": "backup.full_interval",
                "subject": "core/ledger",
                "status": "non_compliant",
                "measured": 2,
                "threshold": 1,
                "clause": {
                    "source": "银发[2002]260号",
                    "article": "第七条",
                    "text": "数据完全备份的时间间隔不超过一个工作日",
                },
            }
        ],
        "mismatches": [
            {
                "recovery_point": "rp-1",
                "file": "data/a.db",
                "expected": DIGEST_A,
                "actual": DIGEST_B,
            }
        ],
        "ticket": "CHG-42",
    }


# --- secrets and report checks -------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["password", "DB_PASSWORD", "Secret-Access-Key", "apiToken", "private_key", "passwd"]
)
def test_is_secret_key_catches_secret_names_in_any_spelling(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["name", "manifest_sha256", "accountable_person", "keys"])
def test_is_secret_key_leaves_ordinary_names_alone(key: str) -> None:
    assert not is_secret_key(key)


def test_find_secrets_reports_nested_paths_with_non_empty_values() -> None:
    report = {
        "steps": [{"detail": {"password": "hunter2"}}, {"detail": {"token": ""}}],
        "store": {"secret_access_key": "AKIA..."},
    }
    assert find_secrets(report) == ["steps[0].detail.password", "store.secret_access_key"]


@pytest.mark.parametrize(
    "value", [None, "", "***", "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", [], {}, True]
)
def test_find_secrets_accepts_empty_or_masked_values(value: object) -> None:
    assert find_secrets({"password": value}) == []


def test_check_report_refuses_secrets_naming_the_path() -> None:
    report = {**drill_report(), "detail": {"private_key": "-----BEGIN"}}
    with pytest.raises(ValueError, match=r"detail\.private_key"):
        check_report(report, "drill")


@pytest.mark.parametrize("person", [None, "", "   "])
def test_check_report_requires_the_accountable_person(person: object) -> None:
    report = {**drill_report(), "accountable_person": person}
    with pytest.raises(ValueError, match="accountable_person"):
        check_report(report, "drill")


def test_check_report_refuses_a_kind_other_than_the_package_kind() -> None:
    with pytest.raises(ValueError, match="does not match package kind 'verify'"):
        check_report(drill_report(), "verify")


def test_check_report_refuses_the_reserved_package_key() -> None:
    with pytest.raises(ValueError, match="reserved"):
        check_report({**drill_report(), "package": {}}, "drill")


def test_encode_report_is_sorted_pretty_utf8_json() -> None:
    data = encode_report({"b": 1, "a": "第七条"})
    assert data == '{\n  "a": "第七条",\n  "b": 1\n}\n'.encode()


def test_encode_report_refuses_nan() -> None:
    with pytest.raises(ValueError, match="cannot be written as JSON"):
        encode_report({"rto": math.nan})


# --- layout ------------------------------------------------------------------------------


def test_make_package_name_uses_utc_timestamp() -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 11, 23, 10, 0, 5, tzinfo=shanghai)
    assert make_package_name("verify", moment, "abc123") == "verify-20261123T020005Z-abc123"


def test_make_package_name_refuses_naive_times_and_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_package_name("drill", datetime(2026, 1, 1), "abc123")
    with pytest.raises(ValueError, match="expected one of drill, verify, report"):
        make_package_name("backup", datetime(2026, 1, 1, tzinfo=UTC), "abc123")


@pytest.mark.parametrize(
    "path", ["events/backup-production.jsonl", "manifests/20261123T020000Z-abc123.json"]
)
def test_validate_attachment_path_accepts_events_and_manifests(path: str) -> None:
    assert validate_attachment_path(path).as_posix() == path


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../events/x.jsonl", r"'\.\.' part"),
        ("events/../../x.jsonl", r"'\.\.' part"),
        ("/etc/passwd", "absolute path"),
        ("report.json", "under events/ or manifests/"),
        ("data/x.jsonl", "under events/ or manifests/"),
        ("events/x.json", r"must end in \.jsonl"),
        ("manifests/x.txt", r"must end in \.json"),
        ("events/a b.jsonl", "characters outside"),
        ("events\\x.jsonl", "backslash"),
    ],
)
def test_validate_attachment_path_refuses_unsafe_or_misplaced_paths(path: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_attachment_path(path)


def test_manifest_round_trips_in_sha256sum_format_sorted_by_path() -> None:
    entries = [ManifestEntry(DIGEST_B, "report.json"), ManifestEntry(DIGEST_A, "PREVIOUS")]
    data = make_manifest(entries)
    assert data == f"{DIGEST_A}  PREVIOUS\n{DIGEST_B}  report.json\n".encode()
    parsed, problems = parse_manifest(data)
    assert problems == []
    assert parsed == sorted(entries, key=lambda entry: entry.path)


def test_parse_manifest_names_lines_with_bad_syntax_escapes_and_duplicates() -> None:
    data = (
        f"{DIGEST_A}  ../outside\n"
        "nothex  report.json\n"
        f"{DIGEST_A}  report.json\n"
        f"{DIGEST_B}  report.json\n"
    ).encode()
    parsed, problems = parse_manifest(data)
    assert [entry.path for entry in parsed] == ["report.json"]
    assert problems[0].startswith("MANIFEST.sha256 line 1: path '../outside' refused")
    assert problems[1].startswith("MANIFEST.sha256 line 2: expected")
    assert problems[2] == "MANIFEST.sha256 line 4: report.json listed twice"


# --- tar members -------------------------------------------------------------------------


def tar_member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = link
    return member


def test_check_tar_members_accepts_one_package_directory() -> None:
    members = [tar_member("p", tarfile.DIRTYPE), tar_member("p/report.json")]
    assert check_tar_members(members) == ("p", [])


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (tar_member("p/../../evil"), r"'\.\.' part"),
        (tar_member("/etc/cron.d/evil"), "absolute path"),
        (tar_member("p/link", tarfile.SYMTYPE, "/etc/passwd"), "only files and directories"),
        (tar_member("p/hard", tarfile.LNKTYPE, "p/report.json"), "only files and directories"),
        (tar_member("p/fifo", tarfile.FIFOTYPE), "only files and directories"),
        (tar_member("other/report.json"), "one top-level directory"),
        (tar_member("p/report.json"), "appears twice"),
    ],
)
def test_check_tar_members_refuses_hostile_members(member: tarfile.TarInfo, reason: str) -> None:
    _, problems = check_tar_members([tar_member("p/report.json"), member])
    assert any(re.search(reason, problem) for problem in problems), problems


# --- chain -------------------------------------------------------------------------------


def chain_entry(name: str, digest: str, previous: str) -> ChainEntry:
    return ChainEntry(name, "drill", "2026-11-23T02:00:00Z", digest, previous)


def test_check_chain_links_accepts_a_chain_starting_at_zeros() -> None:
    entries = [chain_entry("one", DIGEST_A, ZERO_DIGEST), chain_entry("two", DIGEST_B, DIGEST_A)]
    assert check_chain_links(entries, "chain.jsonl") == []


def test_check_chain_links_names_the_broken_line() -> None:
    entries = [chain_entry("one", DIGEST_A, ZERO_DIGEST), chain_entry("two", DIGEST_B, DIGEST_B)]
    problems = check_chain_links(entries, "chain.jsonl")
    assert len(problems) == 1
    assert problems[0].startswith("chain.jsonl line 2 (two)")


def test_check_package_in_chain_compares_previous_with_the_entry_before() -> None:
    entries = [chain_entry("one", DIGEST_A, ZERO_DIGEST), chain_entry("two", DIGEST_B, DIGEST_A)]
    assert check_package_in_chain(entries, "chain.jsonl", "two", DIGEST_B, DIGEST_A) == []
    problems = check_package_in_chain(entries, "chain.jsonl", "two", DIGEST_B, ZERO_DIGEST)
    assert problems and problems[0].startswith("PREVIOUS:")
    missing = check_package_in_chain(entries, "chain.jsonl", "three", DIGEST_B, DIGEST_B)
    assert missing == ["chain.jsonl: package three is not recorded in the chain"]


# --- signing (in memory) -----------------------------------------------------------------


def test_signature_verifies_only_for_the_signed_bytes_and_key() -> None:
    key = Ed25519PrivateKey.generate()
    signature = sign.sign(key, b"manifest")
    assert sign.verify_signature(key.public_key(), b"manifest", signature)
    assert not sign.verify_signature(key.public_key(), b"manifest!", signature)
    other = Ed25519PrivateKey.generate()
    assert not sign.verify_signature(other.public_key(), b"manifest", signature)
    assert not sign.verify_signature(key.public_key(), b"manifest", signature[:-1])


def test_fingerprint_is_sha256_of_the_raw_public_key_and_survives_pem() -> None:
    key = Ed25519PrivateKey.generate()
    raw = sign.raw_public_key(key)
    assert len(raw) == 32
    assert sign.fingerprint(key) == hashlib.sha256(raw).hexdigest()
    reloaded = sign.load_public_key_pem(sign.public_key_pem(key))
    assert sign.fingerprint(reloaded) == sign.fingerprint(key)


def test_load_public_key_pem_names_the_source_on_garbage() -> None:
    with pytest.raises(ValueError, match="trusted.pem: expected a PEM ed25519 public key"):
        sign.load_public_key_pem(b"not a key", "trusted.pem")


# --- rendering ---------------------------------------------------------------------------


def test_render_shows_both_titles_outcome_and_translated_statuses() -> None:
    html = render_report_html(drill_report())
    assert html.index("年度灾备切换演练") < html.index("Yearly failover drill")
    assert "未通过 FAILED" in html
    assert "不符合" in html and "non-compliant" in html
    assert "「数据完全备份的时间间隔不超过一个工作日」" in html
    assert "银发[2002]260号 第七条" in html
    assert "跳过" in html and "失败" in html
    assert DIGEST_B in html
    assert "CHG-42" in html  # unknown top-level keys still appear


def test_render_escapes_caller_text() -> None:
    html = render_report_html(drill_report())
    assert "<b>lose</b>" not in html
    assert "&lt;b&gt;lose&lt;/b&gt;" in html


def test_render_passed_outcome_and_missing_sections() -> None:
    html = render_report_html({"kind": "verify", "outcome": "passed"})
    assert "通过 PASSED" in html
    assert "备份恢复验证报告" in html and "Backup restore verification report" in html
    assert "Findings by rule" not in html


def test_render_shows_a_malformed_section_generically_instead_of_failing() -> None:
    html = render_report_html({"steps": "not a list", "findings": [1, 2]})
    assert "not a list" in html
    assert json.dumps([1, 2], indent=2).splitlines()[1].strip() in html


# --- settings every evidence writer needs (actions/evidence_setup.py) ------------------------


def site_config(tmp_path: Path, **evidence: object) -> LoadedConfig:
    """The sandbox config with a key created and pinned, and `evidence` settings changed."""
    data = make_config(tmp_path)
    key = tmp_path / "keys" / "evidence.pem"
    fingerprint = sign.fingerprint(sign.create_signing_key(key))
    section = data["evidence"]
    assert isinstance(section, dict)
    section.update({"signing_key": str(key), "trusted_fingerprints": [fingerprint], **evidence})
    (tmp_path / "inventory.ini").write_text(make_inventory("/usr/bin/python3"))
    path = tmp_path / "dr.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_config(path)


def test_a_complete_site_has_no_evidence_problems(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    assert evidence_problems(config) == []
    assert anchor_store_name(config) == "evidence-anchor"


@pytest.mark.parametrize("person", [None, "", "   "])
def test_no_accountable_person_is_a_problem_never_a_placeholder(
    tmp_path: Path, person: str | None
) -> None:
    config = site_config(tmp_path, accountable_person=person)
    assert [p.split(":")[0] for p in evidence_problems(config)] == ["evidence.accountable_person"]
    with pytest.raises(InputError, match="evidence.accountable_person: required"):
        prepare_evidence(config)


def test_the_anchor_store_defaults_to_the_shared_offsite_store(tmp_path: Path) -> None:
    config = site_config(tmp_path, anchor_store=None)
    assert anchor_store_name(config) == "offsite"
    assert evidence_problems(config) == []


def test_an_sftp_or_unknown_anchor_store_is_refused(tmp_path: Path) -> None:
    config = site_config(tmp_path, anchor_store="nowhere")
    assert evidence_problems(config) == ["evidence.anchor_store: unknown store 'nowhere'"]
    data = yaml.safe_load(config.path.read_text())
    data["stores"].append(
        {"name": "vault", "url": "sftp://dr@vault.example/srv/dr", "site": "disaster-recovery"}
    )
    data["evidence"]["anchor_store"] = "vault"
    config.path.write_text(yaml.safe_dump(data, allow_unicode=True))
    (problem,) = evidence_problems(load_config(config.path))
    assert problem.startswith("evidence.anchor_store: store 'vault' is sftp://")


def test_a_bad_trusted_fingerprint_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"evidence.trusted_fingerprints.0"):
        site_config(tmp_path, trusted_fingerprints=["ABC"])


# --- provenance ----------------------------------------------------------------------------------


def event(kind: str, res: object, host: str = "dr-db-1") -> str:
    data = {"host": host, "task_action": "dr_mariadb", "res": res}
    return json.dumps({"event": kind, "event_data": data}) + "\n"


def test_target_system_versions_come_from_successful_engine_results(tmp_path: Path) -> None:
    events = tmp_path / "run.jsonl"
    version = {"dr_result": {"name": "dump:cards", "server_version": "10.11.6-MariaDB"}}
    events.write_text(
        event("runner_on_ok", version)
        + event("runner_on_ok", {"results": [version, {"dr_result": {"name": "x"}}]}, "h2")
        + event("runner_on_failed", {"dr_result": {"server_version": "never"}})
        + event("runner_on_ok", {"dr_result": {"server_version": ""}})
        + "not json\n"
    )
    assert target_system_versions([events]) == [
        {"host": "dr-db-1", "module": "dr_mariadb", "server_version": "10.11.6-MariaDB"},
        {"host": "h2", "module": "dr_mariadb", "server_version": "10.11.6-MariaDB"},
    ]


def test_playbook_files_skip_caches_and_hidden_files_and_sort_bytewise(tmp_path: Path) -> None:
    for name in ("b.yml", "B.yml", "a/x.py", "a/__pycache__/x.pyc", ".ansible/tmp", "a/.hidden"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    assert playbook_files(tmp_path) == ["B.yml", "a/x.py", "b.yml"]
    listing = "".join(
        f"{hashlib.sha256(name.encode()).hexdigest()}  {name}\n"
        for name in ("B.yml", "a/x.py", "b.yml")
    )
    assert playbooks_digest(tmp_path) == {
        "sha256": hashlib.sha256(listing.encode()).hexdigest(),
        "files": 3,
    }


# --- anchors against the chain ------------------------------------------------------------------


def anchor_record(number: int, entry: ChainEntry, content: bytes | None = None) -> AnchorRecord:
    return AnchorRecord(
        number,
        entry.name,
        f"file:///a/{number:08d}-{entry.name}.json",
        chain_line(entry) if content is None else content,
    )


CHAIN_ENTRIES = [
    ChainEntry(
        "drill-20261123T020600Z-aaaaaa", "drill", "2026-11-23T02:06:00Z", DIGEST_A, ZERO_DIGEST
    ),
    ChainEntry(
        "verify-20261124T020600Z-bbbbbb", "verify", "2026-11-24T02:06:00Z", DIGEST_B, DIGEST_A
    ),
]


def test_anchors_equal_to_the_chain_raise_nothing() -> None:
    records = [anchor_record(n, e) for n, e in enumerate(CHAIN_ENTRIES, start=1)]
    assert compare_anchors(CHAIN_ENTRIES, records, "file:///a") == []


def test_an_anchor_past_the_end_and_a_changed_line_are_reported() -> None:
    third = ChainEntry(
        "drill-20261125T020600Z-cccccc", "drill", "2026-11-25T02:06:00Z", "c" * 64, DIGEST_B
    )
    records = [anchor_record(n, e) for n, e in enumerate([*CHAIN_ENTRIES, third], start=1)]
    records[0].content = records[0].content.replace(b"drill", b"dri11", 1)
    problems = compare_anchors(CHAIN_ENTRIES, records, "file:///a")
    assert len(problems) == 2
    assert problems[0].startswith(f"file:///a/00000001-{CHAIN_ENTRIES[0].name}.json: differs from")
    assert f"manifest sha256 {'c' * 64}) as line 3, but chain.jsonl has 2 line(s)" in problems[1]


def test_a_line_without_an_anchor_is_reported() -> None:
    records = [anchor_record(1, CHAIN_ENTRIES[0])]
    assert compare_anchors(CHAIN_ENTRIES, records, "file:///a") == [
        f"chain.jsonl line 2 ({CHAIN_ENTRIES[1].name}): not anchored in file:///a; "
        "run `drctl evidence anchor`"
    ]
