"""The tasks plugin alone (its declared dependencies: none) on a fresh database, with a team:
``mgr`` (sales manager) manages ``rep`` and ``rep2``; ``other`` is a rep of another team."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from crm_tasks.manifest import manifest as TASKS

from crm_core.context import Ctx
from crm_core.kernel import Kernel
from crm_core.services.customers import create_customer
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import actor_for, create_team, set_membership
from crm_core.testing_web import Site, add_user
from crm_core.web import create_app


@dataclass
class World:
    kernel: Kernel
    ids: dict[str, int]

    def ctx(self, login: str) -> Ctx:
        return self.kernel.ctx(actor_for(self.kernel.ctx(), login), "web")

    def customer(self, login: str, name: str) -> int:
        return create_customer(self.ctx(login), {"name": name}).id


@pytest.fixture
def make_world(make_kernel: Callable[..., Kernel], tmp_path: Path) -> Callable[..., World]:
    """``make_world(**settings)``: the tasks plugin alone, the built-in roles and the users."""

    def make(**settings: Any) -> World:
        settings.setdefault("scheduler_enabled", False)
        k = make_kernel(plugins=[TASKS], enabled=["tasks"], instance_dir=str(tmp_path / "instance"),
                        **settings)
        seed_builtin_grants(k.ctx())
        ids = {
            "admin": add_user(k, "admin", "admin"),
            "mgr": add_user(k, "mgr", "sales_manager"),
            "rep": add_user(k, "rep", "sales_rep"),
            "rep2": add_user(k, "rep2", "sales_rep", locale="en"),
            "other": add_user(k, "other", "sales_rep"),
        }
        create_team(k.ctx(), "East", manager="mgr")
        create_team(k.ctx(), "South")
        for login in ("rep", "rep2"):
            set_membership(k.ctx(), "East", login, True)
        set_membership(k.ctx(), "South", "other", True)
        return World(k, ids)

    return make


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()


@pytest.fixture
def site(world: World) -> Iterator[Site]:
    s = Site(create_app(kernel=world.kernel))
    yield s
    s.close()


@pytest.fixture
def set_email(world: World) -> Callable[[str, str], None]:
    from crm_core.models import User

    def set_(login: str, email: str) -> None:
        with world.kernel.new_session(write=True) as s, s.begin():
            user = s.query(User).filter_by(login=login).one()
            user.email = email

    return set_


