"""SQL shared by the outreach modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, ColumnElement, String, any_, bindparam
from sqlalchemy.orm import Session


def among(session: Session, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL as ``= ANY(array)``: one short statement whatever the batch's size
    (a long IN list is parsed again by the driver for every batch)."""
    if session.get_bind().dialect.name == "postgresql":
        kind = String() if values and isinstance(values[0], str) else column.type
        return column == any_(bindparam(None, values, type_=ARRAY(kind)))
    return column.in_(values)
