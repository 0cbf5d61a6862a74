"""The service context: who acts, through which interface, on which kernel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from crm_core.permissions.actor import SYSTEM, Actor

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

INTERFACES = ("web", "api", "cli", "import", "system", "plugin")


@dataclass
class Ctx:
    kernel: Kernel
    actor: Actor = SYSTEM
    interface: str = "system"
    _session: Session | None = field(default=None, repr=False)

    @contextmanager
    def uow(self) -> Iterator[Session]:
        """One unit of work. Nested calls join the outer transaction, so a service that calls
        other services (lead conversion…) commits or rolls back everything at once."""
        if self._session is not None:
            yield self._session
            return
        session = self.kernel.new_session(write=True)
        self._session = session
        try:
            with session.begin():
                yield session
        finally:
            self._session = None
            session.close()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        if self._session is not None:
            yield self._session
            return
        session = self.kernel.new_session(write=False)
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def as_(self, actor: Actor, interface: str | None = None) -> Ctx:
        return Ctx(self.kernel, actor, interface or self.interface)
