"""A store in an S3 bucket: `s3://bucket/prefix`, with SHA-256 checksums and Object Lock.

* Uploads stream, one part at a time, each part with its SHA-256, the whole-object digest
  checked before the upload is completed (stores/s3_upload.py).
* On a bucket with Object Lock every object gets COMPLIANCE retention until written + the
  rotation period (backup.rotation, 260号 第七条), or the bucket's default if longer: nobody,
  drctl included, can delete or shorten it early; refusals raise RetentionLocked.
* Versioned buckets: listings see current versions only; delete markers hide keys. The
  version id S3 gives each write is kept (`written_version`) so the catalog can record it, and
  reads can ask for that version (`open_read(key, version_id=...)`): verify and restore read
  the version drctl wrote, whatever was put or deleted over it later (stores/s3_versions.py).
* Credentials come from the standard AWS chain (environment, profile); never logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

from orchestrator.errors import CheckFailed, InfrastructureError, InputError
from orchestrator.integrations.stores.base import point_prefix
from orchestrator.integrations.stores.s3_upload import upload
from orchestrator.integrations.stores.s3_wire import HeadFacts, ResponseBody
from orchestrator.integrations.transfer import DigestMismatch

logger = logging.getLogger(__name__)

MiB = 1 << 20
DEFAULT_PART_BYTES = 8 * MiB
NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
DIGEST_CODES = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"}


class RetentionLocked(CheckFailed):
    """The store refused to delete or shorten an object under Object Lock retention."""

    def __init__(self, message: str, key: str, retain_until: datetime | None) -> None:
        self.key = key
        self.retain_until = retain_until
        super().__init__(message)


def parse_s3_url(url: str, label: str) -> tuple[str, str]:
    """Given `s3://bucket[/prefix]`, return (bucket, prefix without slashes at either end)."""
    parts = urlsplit(url)
    prefix = parts.path.strip("/")
    if parts.scheme != "s3" or not parts.netloc or ".." in prefix.split("/"):
        raise InputError(f"store {label}", [f"url {url!r}: expected s3://BUCKET[/PREFIX]"])
    return parts.netloc, prefix


def make_client(
    label: str, endpoint_url: str | None, region: str | None, profile: str | None
) -> Any:
    """Return a boto3 S3 client from the standard credential chain (env, profile, role)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise InputError(
            f"store {label}", [f"profile: AWS profile {profile!r} not found"]
        ) from error
    settings = Config(
        s3={"addressing_style": "path"} if endpoint_url else {},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
    )
    return session.client("s3", endpoint_url=endpoint_url, config=settings)


class S3Store(HeadFacts):
    """Recovery points as objects under `s3://bucket/prefix`."""

    def __init__(
        self,
        name: str,
        site: str,
        *,
        bucket: str,
        prefix: str,
        client: Any,
        rotation_seconds: float,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        part_bytes: int = DEFAULT_PART_BYTES,
    ) -> None:
        self.name = name
        self.site = site
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self.rotation_seconds = rotation_seconds
        self.endpoint_url = endpoint_url
        self.region = region
        self.profile = profile
        self.part_bytes = part_bytes
        self.copy_object_max_bytes = 5 << 30
        self.written_checksums: dict[str, str] = {}
        self.written_versions: dict[str, str] = {}
        self._lock: tuple[bool, float] | None = None

    # --- plumbing --------------------------------------------------------------------------

    @property
    def where(self) -> str:
        return (
            f"store {self.name} (s3://{self.bucket}/{self.prefix} at "
            f"{self.endpoint_url or 'AWS ' + (self.region or '')})"
        )

    @property
    def endpoint_identity(self) -> tuple[str | None, str | None, str | None]:
        """Stores with equal identities can copy server-side (same endpoint, same creds)."""
        return self.endpoint_url, self.region, self.profile

    def object_key(self, key: str) -> str:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"store {self.name}: key {key!r} leaves the store root")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _root(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    @contextmanager
    def errors(self, key: str) -> Iterator[None]:
        """Translate boto errors about key into orchestrator errors."""
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"{self.name}:s3://{self.bucket}/{self.object_key(key) if key else ''}"
        try:
            yield
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in NOT_FOUND_CODES:
                raise FileNotFoundError(f"{where}: no such object") from error
            if code in DIGEST_CODES:
                raise DigestMismatch(
                    where,
                    "(sent checksum)",
                    "(what the store received)",
                    f"the store refused the upload: {code}",
                ) from error
            raise InfrastructureError(
                f"{self.where}: {code or error}: "
                f"{error.response.get('Error', {}).get('Message', '')}"
            ) from error
        except BotoCoreError as error:
            raise InfrastructureError(f"{self.where}: unreachable or failed: {error}") from error

    def lock_settings(self) -> tuple[bool, float]:
        """Return (Object Lock enabled, bucket default retention in seconds or 0)."""
        if self._lock is None:
            from botocore.exceptions import ClientError

            try:
                with self.errors(""):
                    config = self.client.get_object_lock_configuration(Bucket=self.bucket)
            except InfrastructureError as error:
                cause = error.__cause__
                if isinstance(cause, ClientError) and "ObjectLockConfigurationNotFound" in str(
                    cause.response.get("Error", {}).get("Code", "")
                ):
                    self._lock = (False, 0.0)
                    return self._lock
                raise
            settings = config.get("ObjectLockConfiguration", {})
            default = settings.get("Rule", {}).get("DefaultRetention", {})
            seconds = default.get("Days", 0) * 86400.0 + default.get("Years", 0) * 366 * 86400.0
            self._lock = (settings.get("ObjectLockEnabled") == "Enabled", seconds)
        return self._lock

    def retain_until(self, written: datetime) -> datetime | None:
        """Given when an object is written, return its COMPLIANCE retain-until, or None when
        the bucket has no Object Lock."""
        enabled, default_seconds = self.lock_settings()
        if not enabled:
            return None
        seconds = math.ceil(max(self.rotation_seconds, default_seconds))
        return written.replace(microsecond=0) + timedelta(seconds=seconds + 1)

    def _lock_arguments(self) -> dict[str, Any]:
        until = self.retain_until(datetime.now(UTC))
        if until is None:
            return {}
        return {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": until}

    def head(self, key: str, version_id: str | None = None) -> dict[str, Any]:
        """Return head_object of the current (or given) version; FileNotFoundError if none."""
        extra = {"VersionId": version_id} if version_id else {}
        with self.errors(key):
            response: dict[str, Any] = self.client.head_object(
                Bucket=self.bucket, Key=self.object_key(key), ChecksumMode="ENABLED", **extra
            )
        return response

    # --- Store protocol --------------------------------------------------------------------

    def prepare(self) -> None:
        with self.errors(""):
            self.client.head_bucket(Bucket=self.bucket)
        self.lock_settings()

    def write_stream(self, key: str, chunks: Iterable[bytes], *, size: int, sha256: str) -> None:
        """Write and check key (one PUT or a multipart upload; see stores/s3_upload.py)."""
        upload(self, key, chunks, size=size, sha256=sha256)

    def note_version(self, key: str, response: Mapping[str, Any]) -> None:
        """Keep the version id S3 answered a write of key with (none without versioning)."""
        version = response.get("VersionId")
        if version and version != "null":
            self.written_versions[key] = str(version)
        else:
            self.written_versions.pop(key, None)

    def written_version(self, key: str) -> str | None:
        """Return the version id of this process's last write of key, or None."""
        return self.written_versions.get(key)

    def ensure_retention(self, key: str, head: Mapping[str, Any]) -> None:
        """Given an object's head, extend its COMPLIANCE lock to written + rotation when it
        falls short (a long upload, or a copy that carried another store's settings)."""
        until = self.retain_until(head["LastModified"])
        current = head.get("ObjectLockRetainUntilDate")
        if until is not None and (current is None or current < until):
            with self.errors(key):
                self.client.put_object_retention(
                    Bucket=self.bucket,
                    Key=self.object_key(key),
                    VersionId=head["VersionId"],
                    Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until},
                )

    def open_read(
        self, key: str, version_id: str | None = None
    ) -> AbstractContextManager[BinaryIO]:
        extra = {"VersionId": version_id} if version_id else {}
        with self.errors(key):
            response = self.client.get_object(
                Bucket=self.bucket, Key=self.object_key(key), ChecksumMode="ENABLED", **extra
            )
        return cast(
            AbstractContextManager[BinaryIO], ResponseBody(response["Body"], f"{self.name}:{key}")
        )

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as handle:
            return handle.read()

    def read_range(
        self, key: str, offset: int, length: int, version_id: str | None = None
    ) -> bytes:
        """Return `length` bytes of key (or of one version) from offset (one ranged GET)."""
        if length <= 0:
            return b""
        extra = {"VersionId": version_id} if version_id else {}
        with self.errors(key):
            response = self.client.get_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Range=f"bytes={offset}-{offset + length - 1}",
                **extra,
            )
        with ResponseBody(response["Body"], f"{self.name}:{key}") as body:
            return body.read()

    def retention(self, key: str) -> tuple[str, datetime] | None:
        """Return (mode, retain-until) of the current version of key, or None if unlocked."""
        head = self.head(key)
        if not head.get("ObjectLockMode"):
            return None
        return str(head["ObjectLockMode"]), head["ObjectLockRetainUntilDate"]

    def list_keys(self, prefix: str) -> Iterator[str]:
        start = len(self._root())
        paginator = self.client.get_paginator("list_objects_v2")
        with self.errors(prefix):
            for page in paginator.paginate(
                Bucket=self.bucket, Prefix=self.object_key(prefix).rstrip("/") + "/"
            ):
                for item in page.get("Contents", []):
                    yield item["Key"][start:]

    def list_points(self) -> Iterator[tuple[str, str, str]]:
        """Yield every (system, dataset, point) that has at least one current object. Listed
        from the keys themselves, not from `/` prefixes: some servers (SeaweedFS) keep
        empty "directories" after their objects are deleted."""
        root = self._root()
        paginator = self.client.get_paginator("list_objects_v2")
        seen: set[tuple[str, str, str]] = set()
        with self.errors(""):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=root):
                for item in page.get("Contents", []):
                    parts = item["Key"][len(root) :].split("/")
                    if len(parts) >= 4:
                        seen.add((parts[0], parts[1], parts[2]))
        yield from sorted(seen)

    def remove_partials(self, prefix: str) -> list[str]:
        """Abort the incomplete multipart uploads under prefix (their writer is gone); return
        their keys. Uploads hold no object, so Object Lock does not keep them."""
        start = len(self._root())
        removed = []
        paginator = self.client.get_paginator("list_multipart_uploads")
        with self.errors(prefix):
            for page in paginator.paginate(
                Bucket=self.bucket, Prefix=self.object_key(prefix).rstrip("/") + "/"
            ):
                for upload in page.get("Uploads", []):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed.append(f"{upload['Key'][start:]} (upload {upload['UploadId']})")
        return removed

    def delete_point(self, system: str, dataset: str, recovery_point_id: str) -> None:
        """Delete every version of every object of a recovery point, the manifest first.
        Raise RetentionLocked naming the object and its retain-until date when the store
        refuses (Object Lock)."""
        from orchestrator.integrations.stores.s3_retention import delete_versions

        delete_versions(self, point_prefix(system, dataset, recovery_point_id))

    def close(self) -> None:
        """Nothing to release: boto3 clients pool their own connections."""

    def set_point_retention(
        self, system: str, dataset: str, recovery_point_id: str, until: datetime
    ) -> None:
        """Set COMPLIANCE retention until `until` on every current object of a recovery point.
        Raise RetentionLocked when the store refuses (shortening a COMPLIANCE lock)."""
        from orchestrator.integrations.stores.s3_retention import set_retention

        set_retention(self, point_prefix(system, dataset, recovery_point_id), until)

    def copy_from(self, source: Any, key: str, *, size: int, sha256: str) -> str:
        """Copy key from another store (server-side on the same endpoint, else streamed) and
        verify it here; return "server-side" or "streamed". See stores/s3_copy.py."""
        from orchestrator.integrations.stores.s3_copy import copy_into

        return copy_into(self, source, key, size=size, sha256=sha256)
