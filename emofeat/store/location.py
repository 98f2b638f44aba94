"""Where a store lives: a local directory or a prefix in object storage.

``--store`` takes a path (or ``file://PATH``), ``s3://BUCKET/PREFIX``, ``gs://BUCKET/PREFIX``
or ``az://CONTAINER/PREFIX``. Credentials never appear in a location: icechunk reads them
where the cloud SDKs do (``from_env``):

* S3 and S3-compatible servers (MinIO, Ceph): ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``), or the ``~/.aws`` files and
  ``AWS_PROFILE``; the endpoint from ``AWS_ENDPOINT_URL``, plain HTTP allowed with
  ``AWS_ALLOW_HTTP=true``, the region from ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``);
* Google Cloud Storage: ``GOOGLE_APPLICATION_CREDENTIALS`` or the machine's account;
* Azure: ``AZURE_STORAGE_ACCOUNT`` names the account; its key or token from the
  ``AZURE_STORAGE_*`` variables.

On object storage icechunk commits a branch with a conditional write (the new reference is
written only if the one it read is still there), so two writers are caught without a
lock; on a local directory emofeat serialises commits with a file lock
(:func:`emofeat.store.repo.commit_lock`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import icechunk

from emofeat.errors import StoreError

#: The error kind of a location emofeat cannot use.
UNSUPPORTED = "unsupported_store"
#: URL schemes of object storage, and the name of each service.
SCHEMES = {"s3": "S3", "gs": "Google Cloud Storage", "az": "Azure Blob Storage"}


@dataclass(frozen=True)
class Location:
    """A parsed store location: ``scheme`` ``"file"`` with ``path``, or an object-storage
    scheme with ``bucket`` (an Azure container) and ``prefix``."""

    scheme: str
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    def __str__(self) -> str:
        """The location as the user wrote it (it never holds a credential)."""
        if self.path is not None:
            return str(self.path)
        return f"{self.scheme}://{self.bucket}/{self.prefix}".rstrip("/")


def parse(store: str | Path) -> Location:
    """The location ``store`` names.

    Raises
    ------
    StoreError
        Kind ``unsupported_store`` for another URL scheme, or an object-storage URL with no
        bucket or with credentials in it (``s3://KEY:SECRET@bucket``: give them in the
        environment instead; the message does not repeat them).
    """
    text = str(store)
    if "://" not in text:
        return Location("file", path=Path(text))
    scheme, rest = text.split("://", 1)
    if scheme == "file":
        return Location("file", path=Path(rest))
    if scheme not in SCHEMES:
        raise StoreError(
            f"store URL scheme {scheme!r} is not supported: use a path, s3://, gs:// or az://",
            kind="unsupported_store",
        )
    bucket, _, prefix = rest.partition("/")
    if "@" in bucket or ":" in bucket:
        raise StoreError(
            f"a {scheme}:// store URL must not hold credentials: set them in the environment "
            "(see the README's object storage section)",
            kind="unsupported_store",
        )
    if not bucket:
        raise StoreError(f"store {text!r} names no bucket: use {scheme}://BUCKET/PREFIX", kind=UNSUPPORTED)
    return Location(scheme, bucket=bucket, prefix=prefix.strip("/"))


def storage(location: Location) -> icechunk.Storage:
    """The icechunk storage of ``location``, credentials from the environment.

    Raises
    ------
    StoreError
        When the storage cannot be configured (the message names the location only).
    """
    try:
        if location.path is not None:
            return icechunk.local_filesystem_storage(str(location.path.resolve()))
        if location.scheme == "s3":
            return icechunk.s3_storage(
                bucket=location.bucket,
                prefix=location.prefix,
                region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
                endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
                allow_http=os.environ.get("AWS_ALLOW_HTTP", "").lower() in ("1", "true", "yes"),
                from_env=True,
            )
        if location.scheme == "gs":
            return icechunk.gcs_storage(bucket=location.bucket, prefix=location.prefix, from_env=True)
        account = os.environ.get("AZURE_STORAGE_ACCOUNT") or os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
        if not account:
            raise StoreError(
                f"{location}: set AZURE_STORAGE_ACCOUNT to the storage account of the container",
                kind="unsupported_store",
            )
        return icechunk.azure_storage(
            account=account, container=location.bucket, prefix=location.prefix, from_env=True
        )
    except (icechunk.IcechunkError, ValueError) as exc:
        raise StoreError(f"cannot configure the storage of {location}: {type(exc).__name__}") from None
