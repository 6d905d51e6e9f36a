"""Opening a store: the Store for a URL (file://, s3://, sftp://) from its settings; each store
module is imported only when its scheme is used."""

from __future__ import annotations

from orchestrator.errors import InputError
from orchestrator.integrations.stores.base import Store, StoreSettings


def open_store(settings: StoreSettings) -> Store:
    """Given a store's settings, return the Store for its URL (file://, s3://, sftp://).
    Raise InputError when the URL or the store's settings are unusable."""
    from orchestrator.integrations.stores.file import FileStore

    url = settings.url
    if url.startswith("file://"):
        return FileStore(settings.name, settings.site, url.removeprefix("file://"))
    if url.startswith("s3://"):
        from orchestrator.integrations.stores.s3 import S3Store, make_client, parse_s3_url

        bucket, prefix = parse_s3_url(url, settings.name)
        return S3Store(
            settings.name,
            settings.site,
            bucket=bucket,
            prefix=prefix,
            client=make_client(
                settings.name, settings.endpoint_url, settings.region, settings.profile
            ),
            rotation_seconds=settings.rotation_seconds,
            endpoint_url=settings.endpoint_url,
            region=settings.region,
            profile=settings.profile,
        )
    if url.startswith("sftp://"):
        from orchestrator.integrations.stores.sftp import SftpStore, parse_sftp_url

        if settings.known_hosts is None:
            raise InputError(
                settings.source,
                [f"{settings.where}.known_hosts: required for sftp:// (strict host-key checking)"],
            )
        target, root = parse_sftp_url(
            url,
            known_hosts=settings.known_hosts,
            private_key=settings.private_key,
            label=settings.name,
        )
        return SftpStore(settings.name, settings.site, target, root)
    scheme = url.split("://", 1)[0]
    raise InputError(settings.source, [f"{settings.where}.url: unknown scheme {scheme}://"])
