"""Which tenant the current request acts for, and the rule that it sees only its own rows.

The API sets :data:`current_tenant` from the request's API key. While it is set, every ORM query
of a tenant-owned table (:class:`TenantOwned`: datasets, models, jobs) gets
``WHERE tenant = <current>`` added (SQLAlchemy's global criteria, ``with_loader_criteria``), and
every new row of such a table is stamped with it. So another tenant's id is simply not found, in
lists and counts as in look-ups, without each query saying so. Code that acts for nobody in
particular (training workers, sweeps, an open deployment without keys) leaves it unset and sees
every row.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

DEFAULT_TENANT = "default"
current_tenant: ContextVar[str | None] = ContextVar("annserve_tenant", default=None)


class TenantOwned:
    """A mixin for tables whose rows belong to a tenant."""

    tenant: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TENANT, server_default=DEFAULT_TENANT, index=True
    )


def visible(tenant: str) -> bool:
    """Whether a row of ``tenant`` is visible to the current request."""
    current = current_tenant.get()
    return current is None or current == tenant


@event.listens_for(Session, "do_orm_execute")
def _only_the_current_tenant(state: ORMExecuteState) -> None:
    tenant = current_tenant.get()
    if tenant is None or state.is_column_load or state.is_relationship_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantOwned,
                lambda cls: cls.tenant == tenant,
                include_aliases=True,
                track_closure_variables=False,
            )
        )


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, flush_context: Any, instances: Any) -> None:
    tenant = current_tenant.get() or DEFAULT_TENANT
    for row in session.new:
        if isinstance(row, TenantOwned) and getattr(row, "tenant", None) is None:
            row.tenant = tenant
