"""The bucket, read-only: list objects oldest first (boto3 paginator) and download them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import boto3
import botocore.config
import botocore.exceptions
from click_common.backoff import call_with_backoff
from otlp_rows.layout import names_signal

from .retrying import is_s3_outage
from .settings import LoaderSettings

log = logging.getLogger("s3_loader")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class S3Object:
    key: str
    etag: str
    size: int
    last_modified: datetime

    @property
    def is_metrics(self) -> bool:
        """The awss3exporter names files <file_prefix>metrics_<unique>.json[.gz] (otlp_rows.layout)."""
        return names_signal(self.key, "metrics")


class ObjectVanished(Exception):
    """The object was deleted between listing and download."""


class Bucket:
    def __init__(self, settings: LoaderSettings, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.stop = stop
        self.give_up_after: float | None = None  # set for --once: how long an outage may last
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.aws_region,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
            config=botocore.config.Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 2, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
                max_pool_connections=max(10, settings.download_workers * 2),
            ),
        )

    def _with_backoff(self, fn: Callable[[], T]) -> T:
        s = self.settings
        return call_with_backoff(
            f"S3 {s.s3_endpoint_url or 'AWS'} bucket {s.s3_bucket}", is_s3_outage, fn,
            log=log, max_wait=s.max_outage_backoff, stop=self.stop, give_up_after=self.give_up_after,
        )  # fmt: skip

    def list_objects(self, prefixes: list[str] | None = None, start_after: str = "") -> list[S3Object]:
        """Every object under the prefix (or under each of `prefixes`; those whose key sorts after
        `start_after` when given), oldest first (LastModified, key)."""
        after = {"StartAfter": start_after} if start_after else {}

        def list_all() -> list[S3Object]:
            found: list[S3Object] = []
            paginator = self.client.get_paginator("list_objects_v2")
            pages = (
                page
                for prefix in ([self.settings.list_prefix] if prefixes is None else prefixes)
                for page in paginator.paginate(Bucket=self.settings.s3_bucket, Prefix=prefix, **after)
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    if item["Key"].endswith("/"):
                        continue
                    found.append(
                        S3Object(item["Key"], item["ETag"].strip('"'), item["Size"], item["LastModified"])
                    )
            found.sort(key=lambda o: (o.last_modified, o.key))
            return found

        return self._with_backoff(list_all)

    def exists(self, key: str, etag: str) -> bool:
        """Whether this version of the object is still there (HEAD, ETag compared here: not every S3 server
        honours If-Match on HEAD)."""

        def head() -> bool:
            try:
                found = self.client.head_object(Bucket=self.settings.s3_bucket, Key=key)["ETag"].strip('"')
            except botocore.exceptions.ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in {"NoSuchKey", "404", "NotFound"}:
                    return False
                raise
            return found == etag

        return self._with_backoff(head)

    def download(self, obj: S3Object) -> bytes:
        def get() -> bytes:
            try:
                response = self.client.get_object(
                    Bucket=self.settings.s3_bucket, Key=obj.key, IfMatch=obj.etag
                )
            except botocore.exceptions.ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in {"NoSuchKey", "404", "PreconditionFailed", "412"}:
                    raise ObjectVanished(obj.key) from None
                raise
            return response["Body"].read()

        return self._with_backoff(get)
