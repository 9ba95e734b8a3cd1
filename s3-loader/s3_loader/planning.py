"""Which files a pass loads together: small files in batches claimed in otel.s3_loader_batches (each claim a
(window, seq) token exactly one loader can write, its files only ever inserted together under it), the rest
batch_files at a time, each with its own insert."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from .bookkeeping import ClickHouseBooks
from .bucket import Bucket, S3Object
from .settings import LoaderSettings

log = logging.getLogger("s3_loader")

Member = tuple[str, str]  # (key, etag)
Claims = dict[tuple[int, int], list[Member]]  # (window, seq) → members


@dataclass(frozen=True, slots=True)
class Batch:
    """Files loaded together: each with its own insert (token None), or a claimed batch of small files (one
    insert per table with the batch's token)."""

    objects: list[S3Object]
    token: str | None = None

    @property
    def oldest(self) -> tuple[datetime, str]:
        return min((o.last_modified, o.key) for o in self.objects)


class Planner:
    def __init__(self, settings: LoaderSettings, books: ClickHouseBooks, bucket: Bucket) -> None:
        self.settings = settings
        self.books = books
        self.bucket = bucket

    def window(self, obj: S3Object) -> int:
        return int(obj.last_modified.timestamp()) // self.settings.batch_window_seconds

    def is_small(self, obj: S3Object) -> bool:
        """Loaded in a claimed batch (metrics files are skipped one by one, never batched)."""
        return not obj.is_metrics and obj.size < self.settings.sql_min_bytes

    def plan(self, due: list[S3Object], listed: set[Member]) -> list[Batch]:
        """Small files in claimed batches, the rest batch_files at a time; oldest first."""
        size = max(1, self.settings.batch_files)
        small = [o for o in due if self.is_small(o)]
        rest = [o for o in due if not self.is_small(o)]
        batches = [Batch(rest[start : start + size]) for start in range(0, len(rest), size)]
        by_window: dict[int, list[S3Object]] = {}
        for obj in small:
            by_window.setdefault(self.window(obj), []).append(obj)
        claims = self.books.read_batches(list(by_window))
        for window, objs in by_window.items():
            batches += self._claimed(window, objs, claims, size, listed)
        return sorted(batches, key=lambda b: b.oldest)

    def _claimed(
        self, window: int, objs: list[S3Object], claims: Claims, size: int, listed: set[Member]
    ) -> list[Batch]:
        """The window's due small files by the batch that claims them, claiming new batches for the others.
        Losing a claim to another loader means adopting its batch (members as it wrote them)."""
        batches: list[Batch] = []
        pending = objs
        while pending:
            owner = {m: seq for (w, seq), members in claims.items() if w == window for m in members}
            mine: dict[int, list[S3Object]] = {}
            free: list[S3Object] = []
            for obj in pending:
                seq = owner.get((obj.key, obj.etag))
                (free if seq is None else mine.setdefault(seq, [])).append(obj)
            batches += [
                Batch(o, self.books.batch_token(window, seq))
                for seq, o in sorted(mine.items())
                if self._complete(window, seq, claims[(window, seq)], listed)
            ]
            if not free:
                break
            seq = 1 + max((s for (w, s) in claims if w == window), default=-1)
            chunk, pending = free[:size], free[size:]
            members = [(o.key, o.etag) for o in chunk]
            stands = self.books.claim_batch(window, seq, members)
            if stands == members:
                claims[(window, seq)] = members
                batches.append(Batch(chunk, self.books.batch_token(window, seq)))
                continue
            if not stands:  # written, yet not readable: leave these files to the next pass
                log.warning("batch %d of window %d claimed but not readable: next pass", seq, window)
                break
            claims[(window, seq)] = stands  # another loader claimed it first: adopt its batch
            pending = free
        return batches

    def _complete(self, window: int, seq: int, members: list[Member], listed: set[Member]) -> bool:
        """Whether this pass may insert the batch: the first insert under its token must hold every member
        that still exists, so a member missing from this pass's listing (a racing loader listed after this
        one) holds the batch back until the next pass, unless it is gone from the bucket."""
        missing = [m for m in members if m not in listed]
        if any(self.bucket.exists(key, etag) for key, etag in missing):
            log.info("batch %d of window %d waits for files this listing does not show yet", seq, window)
            return False
        return True
