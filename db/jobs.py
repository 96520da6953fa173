"""Background jobs the pages start and follow (directory imports): their state and progress are rows, so a
page closed and opened again, another supervisor, or a restarted service all see the same job."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, enum_column, utcnow
from db.types import UtcDateTime


class JobState(enum.StrEnum):
    queued = "queued"            # waiting for the import before it
    running = "running"
    done = "done"
    failed = "failed"            # the file could not be read, or the import broke (``error`` says why)
    interrupted = "interrupted"  # the service stopped while it ran (a real import keeps the batches it wrote)


class ImportJob(Base):
    """One directory import (or its dry run). ``rows_done`` grows after every batch; ``summary`` is the
    row accounting when done. The uploaded file and the rejects file are in the job's own folder (a real import
    reads the file its dry run, ``checked_by``, checked)."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))        # as uploaded (shown on the page)
    dry_run: Mapped[bool] = mapped_column(default=True)
    state: Mapped[JobState] = mapped_column(enum_column(JobState, "job_state"), default=JobState.queued,
                                            index=True)
    rows_total: Mapped[int | None] = mapped_column(Integer)  # an estimate, for the progress bar
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))  # its dry run
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
