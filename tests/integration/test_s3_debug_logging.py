"""Secrets never reach logs, not even at -vv: botocore's debug output (the request headers with
`Authorization: AWS4-HMAC-SHA256 Credential=<access key id>/…, Signature=…`, the canonical
request, the string to sign) is not logged by drctl (cli/call.py keeps the S3 libraries'
loggers at INFO). Run through the real CLI against a real SeaweedFS server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from orchestrator.actions.sandbox import prepare_sandbox
from tests.fixtures.s3 import S3Server, create_locked_bucket

SIGNATURE = re.compile(r"[Ss]ignature\W+[0-9a-f]{64}")


def s3_site(tmp_path: Path, server: S3Server) -> Path:
    """Return the sandbox's dr.yml with both stores moved to locked buckets on the server."""
    config_path = prepare_sandbox(tmp_path / "sb")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for store in config["stores"][:2]:
        bucket = create_locked_bucket(server, f"dr-{store['name']}-{os.urandom(4).hex()}")
        store.update(
            url=f"s3://{bucket}/points", endpoint_url=server.endpoint_url, region=server.region
        )
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return config_path


def test_debug_logging_of_an_s3_command_shows_no_access_key_nor_signature(
    tmp_path: Path, s3_site_a: S3Server
) -> None:
    config_path = s3_site(tmp_path, s3_site_a)
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": s3_site_a.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_site_a.secret_key,
        "AWS_CONFIG_FILE": str(tmp_path / "absent"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "absent"),
    }
    environment.pop("AWS_PROFILE", None)
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(config_path), "-vv", "copy-offsite"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The run was at debug and signed requests with these credentials (else the test would
    # prove nothing): copy-offsite lists the off-site bucket first, exit 3 if it cannot.
    assert " DEBUG orchestrator." in result.stderr, result.stderr
    assert "botocore.credentials: Found credentials in environment" in result.stderr
    for secret in (s3_site_a.access_key, s3_site_a.secret_key):
        assert secret not in result.stderr
    assert "Credential=" not in result.stderr
    assert "Authorization" not in result.stderr
    assert not SIGNATURE.search(result.stderr)
