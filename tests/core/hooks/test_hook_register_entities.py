"""register_entities: collected at startup for every loaded plugin; enabling creates tables."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect
from sqlmodel import Field, SQLModel

from crm_core.declarations import EntityDecl
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest


class HkentItem(SQLModel, table=True):
    __tablename__ = "hkent_item"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    title: str = Field(default="", max_length=120)


DECL = EntityDecl("hkent.item", HkentItem, "条目", "Item", owner_column="owner_id")


class Hooks:
    @hookimpl
    def register_entities(self, kernel: Kernel) -> list[EntityDecl]:
        return [DECL]


def test_hook_register_entities(make_kernel: Callable[..., Kernel]) -> None:
    k = make_kernel(plugins=[Manifest(name="hkent", version="0.1.0", hooks=Hooks())])
    # declared by a loaded plugin even before it is enabled (its data outlives a disable)
    assert k.entity("hkent.item") is DECL
    assert k.entities["hkent.item"] == (DECL, "hkent")
    assert k.tables["hkent_item"] == "hkent"
    assert k.entities["customer"][1] == "core"
    assert [t.name for t in k.plugin_tables("hkent")] == ["hkent_item"]
    with k.engine.connect() as c:
        assert "hkent_item" not in inspect(c).get_table_names()

    enable_plugins(k, ["hkent"])
    with k.engine.connect() as c:
        assert "hkent_item" in inspect(c).get_table_names()
