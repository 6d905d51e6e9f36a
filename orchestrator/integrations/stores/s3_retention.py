"""Deleting recovery points from S3 and changing their retention, under Object Lock.

Deletion removes every *version* (a plain DELETE on a versioned bucket only adds a delete
marker and frees nothing). The manifest goes first, so a half-deleted point stops counting.
When the store refuses because of COMPLIANCE retention, the error names the object, its
version and the retain-until date; drctl reports it and never pretends the deletion happened.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orchestrator.errors import InfrastructureError
from orchestrator.integrations.stores.base import MANIFEST_NAME
from orchestrator.integrations.stores.s3 import RetentionLocked

if TYPE_CHECKING:
    from orchestrator.integrations.stores.s3 import S3Store

logger = logging.getLogger(__name__)

CLAUSE = "backup.rotation, 260号 第七条 「数据完全备份介质的循环周期不能小于7天」"


def refused_by_lock(error: InfrastructureError) -> bool:
    """Return True when error wraps the store's AccessDenied answer."""
    from botocore.exceptions import ClientError

    cause = error.__cause__
    return (
        isinstance(cause, ClientError)
        and cause.response.get("Error", {}).get("Code") == "AccessDenied"
    )


def refusal(store: S3Store, object_key: str, version_id: str, action: str) -> RetentionLocked:
    """Return the RetentionLocked error for a refused action on one object version, with
    the retain-until date the store reports for it."""
    until = None
    mode = "retention"
    try:
        with store.errors(""):
            head = store.client.head_object(
                Bucket=store.bucket, Key=object_key, VersionId=version_id
            )
        until = head.get("ObjectLockRetainUntilDate")
        mode = f"{head.get('ObjectLockMode', '')} retention".strip()
    except (FileNotFoundError, InfrastructureError) as error:
        logger.debug("store %s: no retention details for %s: %s", store.name, object_key, error)
    when = until.astimezone(UTC).isoformat() if until else "an unknown date"
    return RetentionLocked(
        f"{store.where}: the store refused to {action} s3://{store.bucket}/{object_key} "
        f"(version {version_id}): it is under {mode} until {when} ({CLAUSE})",
        object_key,
        until,
    )


def list_versions(store: S3Store, prefix: str) -> list[dict[str, Any]]:
    """Return every object version and delete marker under prefix (an object key prefix)."""
    paginator = store.client.get_paginator("list_object_versions")
    found: list[dict[str, Any]] = []
    with store.errors(""):
        for page in paginator.paginate(Bucket=store.bucket, Prefix=prefix):
            found += page.get("Versions", []) + page.get("DeleteMarkers", [])
    return found


def delete_versions(store: S3Store, point: str) -> None:
    """Delete every version under a recovery point's prefix, manifest first. Raise
    RetentionLocked on the first version the store refuses to delete."""
    base = store.object_key(point) + "/"
    manifest = base + MANIFEST_NAME
    versions = sorted(list_versions(store, base), key=lambda v: v["Key"] != manifest)
    for version in versions:
        try:
            with store.errors(""):
                store.client.delete_object(
                    Bucket=store.bucket, Key=version["Key"], VersionId=version["VersionId"]
                )
        except InfrastructureError as error:
            if refused_by_lock(error):
                raise refusal(store, version["Key"], version["VersionId"], "delete") from error
            raise
    logger.info("store %s: deleted %s (%d object versions)", store.name, base, len(versions))


def set_retention(store: S3Store, point: str, until: datetime) -> None:
    """Set COMPLIANCE retention until `until` on every current object under point. Raise
    RetentionLocked when the store refuses (a COMPLIANCE lock cannot be shortened)."""
    for key in store.list_keys(point):
        head = store.head(key)
        try:
            with store.errors(key):
                store.client.put_object_retention(
                    Bucket=store.bucket,
                    Key=store.object_key(key),
                    VersionId=head["VersionId"],
                    Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until},
                )
        except InfrastructureError as error:
            if refused_by_lock(error):
                raise refusal(
                    store,
                    store.object_key(key),
                    head["VersionId"],
                    f"set retention to {until.isoformat()} on",
                ) from error
            raise
