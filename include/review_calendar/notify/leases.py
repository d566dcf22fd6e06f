"""The sending lease of an outbox message and the batched record of outcomes.

:mod:`review_calendar.notify.delivery` claims each message in its own short,
committed transaction (:meth:`Leases.claim`) just before sending it, and
records the outcomes of the messages sent since the last record in one
transaction (:meth:`Leases.mark`, :meth:`Leases.flush`): every
:data:`MARK_EVERY` messages, and before a send once the oldest waiting is
:data:`MARK_SECONDS` old (:meth:`Leases.due`). Until its outcome is
recorded a sent message keeps its pending status and its lease, so a process
that dies in between leaves it to be sent again once the lease has expired,
never lost, never sent by a concurrent delivery meanwhile.

The statements are built once per batch with bound parameters, so a message
costs its database round trips and not the building of the SQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, or_, select, update

from review_calendar.notify.outbox import PENDING
from review_calendar.store.tables.mail import OutboxMessage

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger(__name__)

#: Outcomes recorded in one transaction at most, and how old the oldest may get before the
#: next send records them: what a delivery that dies may send a second time.
MARK_EVERY = 100
MARK_SECONDS = 1.0

_TABLE = OutboxMessage.__table__


class Leases:
    """Claims and marks of one delivery batch, on its connection.

    Args:
        conn: The batch's connection (no transaction open between calls).
        owner: The batch's lease owner (:func:`review_calendar.notify.delivery.lease_owner`).
        lease: How long a claim reserves a message.
        setup: A statement to run at the start of each transaction ("" for none).
    """

    def __init__(self, conn: Connection, owner: str, lease: dt.timedelta, setup: str = "") -> None:
        self.conn, self.owner, self.lease, self.setup = conn, owner, lease, setup
        self.pending: list[tuple[int, dict[str, Any]]] = []
        self.oldest = 0.0
        self.lost = 0
        self._marks: dict[tuple[str, ...], Any] = {}
        c = _TABLE.c
        free = or_(c.lease_until.is_(None), c.lease_until < bindparam("now", type_=c.lease_until.type))
        self._claim = (
            update(_TABLE)
            .where(c.id == bindparam("row_id"), c.status.in_(PENDING), free)
            .values(
                attempts=c.attempts + 1,
                lease_owner=bindparam("owner", type_=c.lease_owner.type),
                lease_until=bindparam("until", type_=c.lease_until.type),
            )
        )
        self._returning = bool(getattr(conn.dialect, "update_returning", False))
        if self._returning:
            self._claim = self._claim.returning(*c)
        self._read = select(_TABLE).where(c.id == bindparam("row_id"))

    def _begin(self) -> Any:
        transaction = self.conn.begin()
        if self.setup:
            self.conn.exec_driver_sql(self.setup)
        return transaction

    def claim(self, row_id: int) -> Any | None:
        """Take the lease of a pending message (committed); its fresh row, or None when another delivery has it."""
        now = dt.datetime.now(dt.UTC)
        params = {"row_id": row_id, "now": now, "owner": self.owner, "until": now + self.lease}
        with self._begin():
            result = self.conn.execute(self._claim, params)
            if self._returning:
                return result.one_or_none()
            if result.rowcount != 1:
                return None
            return self.conn.execute(self._read, {"row_id": row_id}).one()

    def mark(self, row_id: int, **values: Any) -> None:
        """Queue the outcome of a message (recorded, and its lease released, by :meth:`flush`).

        ``sent_at`` keeps the first moment a message reached someone (a retry for refused
        recipients does not move it).
        """
        if not self.pending:
            self.oldest = time.monotonic()
        self.pending.append((row_id, values))
        if len(self.pending) >= MARK_EVERY:
            self.flush()

    def due(self) -> bool:
        """Whether outcomes wait longer than :data:`MARK_SECONDS`."""
        return bool(self.pending) and time.monotonic() - self.oldest >= MARK_SECONDS

    def flush(self) -> None:
        """Record the queued outcomes and release their leases, in one short transaction."""
        if not self.pending:
            return
        marks, self.pending = self.pending, []
        with self._begin():
            for row_id, values in marks:
                stmt = self._mark_statement(tuple(sorted(values)))
                params = {"row_id": row_id, "owner": self.owner}
                params.update({f"v_{k}": v for k, v in values.items()})
                if self.conn.execute(stmt, params).rowcount != 1:
                    self.lost += 1
                    log.warning(
                        "Outbox message %d: the sending lease expired before the outcome was recorded", row_id
                    )

    def _mark_statement(self, keys: tuple[str, ...]) -> Any:
        """``UPDATE outbox SET <keys>, lease released WHERE id = :row_id AND lease_owner = :owner`` (built once)."""
        stmt = self._marks.get(keys)
        if stmt is None:
            c = _TABLE.c
            values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
            for key in keys:
                param = bindparam(f"v_{key}", type_=c[key].type)
                values[key] = func.coalesce(c.sent_at, param) if key == "sent_at" else param
            mine = (c.id == bindparam("row_id")) & (
                c.lease_owner == bindparam("owner", type_=c.lease_owner.type)
            )
            stmt = self._marks[keys] = update(_TABLE).where(mine).values(values)
        return stmt
