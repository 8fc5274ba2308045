"""The job queue: the one owner of job state and of the events that announce it.

Routes and workers only see `JobQueue`. Each change of a job (queued, started, progress, succeeded, failed,
canceled) is one conditional UPDATE followed by its event and, where the counts moved, one `queue.status`,
published here and nowhere else. `SqliteJobQueue` is the embedded default.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from retouch.server.database import Database, Migration, new_id, now, statements
from retouch.server.schemas import (
    JOB_ADAPTER,
    ErrorPublic,
    Event,
    Job,
    JobCanceledEvent,
    JobFailedEvent,
    JobProgressEvent,
    JobPublic,
    JobQueuedEvent,
    JobResult,
    JobStartedEvent,
    JobStatus,
    JobSucceededEvent,
    Progress,
    QueueStatusEvent,
)

#: The `jobs` table, version by version (numbered in one sequence with the other tables', `migrations.py`).
JOB_MIGRATIONS = (
    Migration(
        2,
        "jobs: the queue",
        statements(
            """CREATE TABLE jobs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT UNIQUE NOT NULL,
                session TEXT,
                status TEXT NOT NULL,
                priority INTEGER NOT NULL,
                engine TEXT NOT NULL,
                request TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                step INTEGER NOT NULL DEFAULT 0,
                total INTEGER NOT NULL DEFAULT 0,
                device TEXT,
                result_image TEXT,
                seed INTEGER,
                error_code TEXT,
                error_message TEXT,
                created_at TEXT NOT NULL,
                started_at TEXT,
                finished_at TEXT
            )""",
            "CREATE INDEX jobs_pending ON jobs (status, priority DESC, seq)",
            "CREATE INDEX jobs_session ON jobs (session)",
        ),
    ),
    Migration(
        4,
        "jobs: kinds of job (fill, upscale, ...), their reports and the stage a running job is at",
        statements(
            "ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'fill'",
            "ALTER TABLE jobs ADD COLUMN report TEXT",
            "ALTER TABLE jobs ADD COLUMN stage TEXT",
        ),
    ),
)

#: A job interrupted by a server stop is run again this many times in all, then failed.
MAX_ATTEMPTS = 2

#: Where events go: (event, the session of its job). The server's EventHub.publish; safe from any thread.
Publish = Callable[[Event, "str | None"], None]


def _nowhere(event: Event, session: str | None) -> None:
    return None


@dataclass(frozen=True)
class Claimed:
    """A job a worker took: its id, the request to run and how many times it was started."""

    id: str
    request: Job
    attempts: int
    session: str | None


class JobQueue(Protocol):
    def submit(self, request: Job, engine: str, session: str | None) -> JobPublic: ...
    def peek(self, limit: int) -> list[Claimed]: ...
    def start(self, job_id: str, device: str) -> bool: ...
    def progress(self, job_id: str, step: int, total: int, stage: str | None, preview: str | None) -> None: ...
    def succeed(
        self,
        job_id: str,
        result_image: str,
        seed: int | None,
        report: dict[str, Any],
        within: Callable[[], None] | None = None,
    ) -> bool: ...
    def fail(self, job_id: str, error: ErrorPublic) -> bool: ...
    def retry(self, job_id: str, *, spent: bool = True) -> bool: ...
    def release(self, job_id: str) -> bool: ...
    def cancel(self, job_id: str) -> JobStatus | None: ...
    def mark_canceled(self, job_id: str) -> bool: ...
    def get(self, job_id: str) -> JobPublic | None: ...
    def get_many(self, job_ids: list[str]) -> list[JobPublic]: ...
    def session_of(self, job_id: str) -> str | None: ...
    def session_jobs(self, session: str) -> list[JobPublic]: ...
    def list(self, status: JobStatus | None, limit: int, offset: int) -> tuple[list[JobPublic], int]: ...
    def counts(self) -> dict[str, int]: ...
    def recover(self) -> tuple[int, int]: ...


class _NotRunning(Exception):
    """Rolls back a success whose job is no longer running."""


def stored_request(request: Job) -> str:
    """The request as the client sent it: fields left out stay out, so the engine's defaults apply."""
    data = request.model_dump(mode="json", exclude_unset=True)
    data["kind"] = request.kind
    return json.dumps(data)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class SqliteJobQueue:
    """Jobs as rows; every state change is one conditional UPDATE, so no job runs twice to completion."""

    def __init__(self, db: Database, publish: Publish = _nowhere) -> None:
        self._db = db
        self._publish = publish

    def _announce(self, event: Event, job_id: str, *, counts_moved: bool = True) -> None:
        self._publish(event, self.session_of(job_id))
        if counts_moved:
            counts = self.counts()
            self._publish(QueueStatusEvent(pending=counts["queued"], running=counts["running"]), None)

    def _public(self, row: sqlite3.Row, position: int | None = None) -> JobPublic:
        error = None
        if row["error_code"]:
            error = ErrorPublic(code=row["error_code"], message=row["error_message"] or "")
        result = None
        if row["result_image"]:
            result = JobResult(image=row["result_image"], report=json.loads(row["report"] or "{}"))
        return JobPublic(
            id=row["id"],
            kind=row["kind"],
            status=JobStatus(row["status"]),
            engine=row["engine"],
            position=position,
            progress=Progress(step=row["step"], total=row["total"], stage=row["stage"]),
            result=result,
            seed=row["seed"],
            error=error,
            priority=row["priority"],
            device=row["device"],
            created_at=_time(row["created_at"]),  # type: ignore[arg-type]
            started_at=_time(row["started_at"]),
            finished_at=_time(row["finished_at"]),
        )

    def _position(self, row: sqlite3.Row) -> int | None:
        if row["status"] != JobStatus.queued.value:
            return None
        rows = self._db.query(
            "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND (priority > ? OR (priority = ? AND seq < ?))",
            (row["priority"], row["priority"], row["seq"]),
        )
        return int(rows[0][0])

    def submit(self, request: Job, engine: str, session: str | None) -> JobPublic:
        job_id = new_id()
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO jobs (id, session, status, priority, kind, engine, request, created_at)"
                " VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
                (job_id, session, request.priority, request.kind, engine, stored_request(request), now()),
            )
        job = self.get(job_id)
        assert job is not None
        self._announce(JobQueuedEvent(job_id=job_id, position=job.position or 0), job_id)
        return job

    def peek(self, limit: int) -> list[Claimed]:
        rows = self._db.query(
            "SELECT id, request, attempts, session FROM jobs WHERE status = 'queued'"
            " ORDER BY priority DESC, seq LIMIT ?",
            (limit,),
        )
        return [Claimed(r["id"], JOB_ADAPTER.validate_json(r["request"]), r["attempts"], r["session"]) for r in rows]

    def start(self, job_id: str, device: str) -> bool:
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET status = 'running', device = ?, started_at = ?, attempts = attempts + 1,"
                " step = 0, total = 0, stage = NULL WHERE id = ? AND status = 'queued'",
                (device, now(), job_id),
            )
        if cursor.rowcount != 1:
            return False
        self._announce(JobStartedEvent(job_id=job_id, device=device), job_id)
        return True

    def progress(self, job_id: str, step: int, total: int, stage: str | None, preview: str | None) -> None:
        """Record a step; the event carries the preview (the worker decides how often there is one)."""
        with self._db.transaction() as conn:
            changed = conn.execute(
                "UPDATE jobs SET step = ?, total = ?, stage = ? WHERE id = ? AND status = 'running'",
                (step, total, stage, job_id),
            ).rowcount
        if changed:
            event = JobProgressEvent(job_id=job_id, step=step, total=total, stage=stage, preview=preview)
            self._announce(event, job_id, counts_moved=False)

    def _finish(self, job_id: str, status: JobStatus, **fields: object) -> bool:
        assignments = "".join(f", {name} = ?" for name in fields)
        with self._db.transaction() as conn:
            changed = conn.execute(
                f"UPDATE jobs SET status = ?, finished_at = ?{assignments} WHERE id = ? AND status = 'running'",
                (status.value, now(), *fields.values(), job_id),
            ).rowcount
        return changed == 1

    def succeed(
        self,
        job_id: str,
        result_image: str,
        seed: int | None,
        report: dict[str, Any],
        within: Callable[[], None] | None = None,
    ) -> bool:
        """Record a success; `within()` runs in the same transaction (the result picture's record), so the
        result and the success are kept together or not at all. False (and nothing kept) if the job is no
        longer running."""
        try:
            with self._db.transaction() as conn:  # a finished job shows full progress
                if within is not None:
                    within()
                changed = conn.execute(
                    "UPDATE jobs SET status = 'succeeded', finished_at = ?, result_image = ?, seed = ?, report = ?,"
                    " total = MAX(total, 1), step = MAX(total, 1) WHERE id = ? AND status = 'running'",
                    (now(), result_image, seed, json.dumps(report), job_id),
                ).rowcount
                if changed != 1:
                    raise _NotRunning
        except _NotRunning:
            return False
        result = JobResult(image=result_image, report=report)
        self._announce(JobSucceededEvent(job_id=job_id, result=result, seed=seed), job_id)
        return True

    def fail(self, job_id: str, error: ErrorPublic) -> bool:
        if not self._finish(job_id, JobStatus.failed, error_code=error.code, error_message=error.message):
            return False
        self._announce(JobFailedEvent(job_id=job_id, error=error), job_id)
        return True

    def release(self, job_id: str) -> bool:
        """A running job the server stopped on purpose (a graceful stop): queued again, the attempt given back,
        so that only crashes count towards `MAX_ATTEMPTS`."""
        return self.retry(job_id, spent=False)

    def retry(self, job_id: str, *, spent: bool = True) -> bool:
        """A running job whose worker was lost (its machine died): queued again, in its place by priority and
        age. `spent=False` gives the attempt back, for a job that never reached the worker."""
        with self._db.transaction() as conn:
            changed = conn.execute(
                "UPDATE jobs SET status = 'queued', attempts = MAX(attempts - ?, 0), step = 0, total = 0,"
                " stage = NULL, device = NULL, started_at = NULL WHERE id = ? AND status = 'running'",
                (0 if spent else 1, job_id),
            ).rowcount
        if changed != 1:
            return False
        job = self.get(job_id)
        self._announce(JobQueuedEvent(job_id=job_id, position=(job.position or 0) if job else 0), job_id)
        return True

    def cancel(self, job_id: str) -> JobStatus | None:
        """Cancel a queued job at once; for a running one only report `running` (its worker stops it)."""
        with self._db.transaction() as conn:
            rows = conn.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchall()
            if not rows:
                return None
            status = JobStatus(rows[0]["status"])
            if status is JobStatus.queued:
                conn.execute(
                    "UPDATE jobs SET status = 'canceled', finished_at = ? WHERE id = ? AND status = 'queued'",
                    (now(), job_id),
                )
        if status is JobStatus.queued:
            self._announce(JobCanceledEvent(job_id=job_id), job_id)
        return status

    def mark_canceled(self, job_id: str) -> bool:
        """A running job stopped at a cancel."""
        if not self._finish(job_id, JobStatus.canceled):
            return False
        self._announce(JobCanceledEvent(job_id=job_id), job_id)
        return True

    def get(self, job_id: str) -> JobPublic | None:
        rows = self._db.query("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return self._public(rows[0], self._position(rows[0])) if rows else None

    def get_many(self, job_ids: list[str]) -> list[JobPublic]:
        jobs = (self.get(job_id) for job_id in dict.fromkeys(job_ids))
        return [job for job in jobs if job is not None]

    def session_of(self, job_id: str) -> str | None:
        rows = self._db.query("SELECT session FROM jobs WHERE id = ?", (job_id,))
        return rows[0]["session"] if rows else None

    def session_jobs(self, session: str) -> list[JobPublic]:
        rows = self._db.query("SELECT * FROM jobs WHERE session = ? ORDER BY seq", (session,))
        return [self._public(row, self._position(row)) for row in rows]

    def list(self, status: JobStatus | None, limit: int, offset: int) -> tuple[list[JobPublic], int]:
        where, params = ("WHERE status = ?", (status.value,)) if status else ("", ())
        total = int(self._db.query(f"SELECT COUNT(*) FROM jobs {where}", params)[0][0])
        rows = self._db.query(
            f"SELECT * FROM jobs {where} ORDER BY seq DESC LIMIT ? OFFSET ?", (*params, limit, offset)
        )
        return [self._public(row, self._position(row)) for row in rows], total

    def counts(self) -> dict[str, int]:
        rows = self._db.query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        counts = {status.value: 0 for status in JobStatus}
        counts.update({row["status"]: row["n"] for row in rows})
        return counts

    def recover(self) -> tuple[int, int]:
        """After a stop: re-queue jobs that were running once; fail those already started twice."""
        with self._db.transaction() as conn:
            failed = conn.execute(
                "UPDATE jobs SET status = 'failed', finished_at = ?, error_code = 'interrupted',"
                " error_message = ? WHERE status = 'running' AND attempts >= ?",
                (
                    now(),
                    f"the server stopped while this job ran, {MAX_ATTEMPTS} times; not retried again",
                    MAX_ATTEMPTS,
                ),
            ).rowcount
            requeued = conn.execute(
                "UPDATE jobs SET status = 'queued', step = 0, total = 0, device = NULL WHERE status = 'running'"
            ).rowcount
        return requeued, failed
