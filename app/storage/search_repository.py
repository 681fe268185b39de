"""Queries of searches and trials, the only place that builds their SQL.

Schedulers in several processes may look at the same search; only the holder of its lease (a
conditional ``UPDATE`` on ``scheduler_id`` and ``lease_until``, as the job queue claims jobs)
changes it, and every write of a scheduler is conditional on still holding the lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.storage.search_tables import SEARCH_ACTIVE_STATUSES, SearchRow, TrialRow


def _count(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class SearchRepository:
    """Searches' and trials' rows on one session (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # Searches ------------------------------------------------------------------------------
    def add(self, row: SearchRow) -> SearchRow:
        """Insert a new search."""
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, search_id: str) -> SearchRow | None:
        """The row with this id, or None."""
        return self.session.get(SearchRow, search_id)

    def list(
        self,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        dataset_id: str | None = None,
    ) -> tuple[list[SearchRow], int]:
        """A page of searches, newest first, and the total matching the filters."""
        query = select(SearchRow)
        if status is not None:
            query = query.where(SearchRow.status == status)
        if dataset_id is not None:
            query = query.where(SearchRow.dataset_id == dataset_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        query = query.order_by(SearchRow.created_at.desc(), SearchRow.id)
        rows = self.session.scalars(query.limit(limit).offset(offset)).all()
        return list(rows), int(total or 0)

    def delete(self, search_id: str) -> None:
        """Delete the search and its trials' rows."""
        self.session.execute(delete(TrialRow).where(TrialRow.search_id == search_id))
        self.session.execute(delete(SearchRow).where(SearchRow.id == search_id))

    def active_ids(self) -> Sequence[str]:
        """Ids of the searches still to schedule, oldest first."""
        query = (
            select(SearchRow.id)
            .where(SearchRow.status.in_(SEARCH_ACTIVE_STATUSES))
            .order_by(SearchRow.created_at, SearchRow.id)
        )
        return self.session.scalars(query).all()

    def claim(self, search_id: str, scheduler_id: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease of an active search; False while another scheduler holds it."""
        query = (
            update(SearchRow)
            .where(
                SearchRow.id == search_id,
                SearchRow.status.in_(SEARCH_ACTIVE_STATUSES),
                or_(
                    SearchRow.scheduler_id.is_(None),
                    SearchRow.scheduler_id == scheduler_id,
                    SearchRow.lease_until < now,
                ),
            )
            .values(scheduler_id=scheduler_id, lease_until=until)
        )
        return _count(self.session.execute(query)) == 1

    def release(self, search_id: str, scheduler_id: str) -> None:
        """Give the lease up (a scheduler stopping), so another may take over at once."""
        query = (
            update(SearchRow)
            .where(SearchRow.id == search_id, SearchRow.scheduler_id == scheduler_id)
            .values(scheduler_id=None, lease_until=None)
        )
        self.session.execute(query)

    def update_owned(self, search_id: str, scheduler_id: str, **values: Any) -> bool:
        """Change a search this scheduler holds; False if the lease was lost."""
        query = (
            update(SearchRow)
            .where(SearchRow.id == search_id, SearchRow.scheduler_id == scheduler_id)
            .values(**values)
        )
        return _count(self.session.execute(query)) == 1

    def request_cancel(self, search_id: str) -> bool:
        """Ask the scheduler to cancel an active search; False if it has ended."""
        query = (
            update(SearchRow)
            .where(SearchRow.id == search_id, SearchRow.status.in_(SEARCH_ACTIVE_STATUSES))
            .values(cancel_requested=True)
        )
        return _count(self.session.execute(query)) == 1

    # Trials --------------------------------------------------------------------------------
    def trials(self, search_id: str) -> Sequence[TrialRow]:
        """Every trial of the search, by number."""
        query = select(TrialRow).where(TrialRow.search_id == search_id).order_by(TrialRow.number)
        return self.session.scalars(query).all()

    def curves(self, search_id: str, numbers: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The stored cost curves of the trials ``numbers`` (those that have one)."""
        query = select(TrialRow.number, TrialRow.curve).where(
            TrialRow.search_id == search_id, TrialRow.number.in_(list(numbers))
        )
        return {number: curve for number, curve in self.session.execute(query) if curve}

    def add_trial(self, row: TrialRow) -> None:
        """Insert a trial (an ``IntegrityError`` at commit if its number exists already)."""
        self.session.add(row)
        self.session.flush()

    def update_trial(
        self, search_id: str, number: int, statuses: Sequence[str], **values: Any
    ) -> bool:
        """Change a trial still in one of ``statuses``; False otherwise."""
        query = (
            update(TrialRow)
            .where(
                TrialRow.search_id == search_id,
                TrialRow.number == number,
                TrialRow.status.in_(statuses),
            )
            .values(**values)
        )
        return _count(self.session.execute(query)) == 1
