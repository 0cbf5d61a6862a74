"""Alembic branches: the core schema matches the models, migrating is idempotent, each plugin
migrates its own branch, and the customer name search index stays in sync."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, delete, insert, inspect, text, update
from sqlmodel import Field, SQLModel

from crm_core.declarations import EntityDecl
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import alembic_config, enable_plugins, include_name, migrate
from crm_core.models import Customer
from crm_core.plugin_system.manifest import Manifest
from crm_core.testing import _pg_create_database, _pg_drop_database, settings_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class NomigNote(SQLModel, table=True):
    __tablename__ = "nomig_note"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="crm_user.id", ondelete="SET NULL")
    body: str = Field(default="", max_length=200)


class _NomigHooks:
    @hookimpl
    def register_entities(self, kernel: Kernel) -> list[EntityDecl]:
        return [EntityDecl(name="nomig.note", model=NomigNote, owner_column="owner_id")]


NOMIG = Manifest(name="nomig", version="0.1.0", hooks=_NomigHooks())


def schema_diff(kernel: Kernel, plugins: tuple[str, ...] = ()) -> list[Any]:
    """Differences between the database and the kernel's (and ``plugins``') tables."""
    metadata = MetaData()
    tables = [t for name, t in SQLModel.metadata.tables.items() if name.startswith("crm_")]
    for plugin in plugins:
        tables += kernel.plugin_tables(plugin)
    for table in tables:
        table.to_metadata(metadata)
    with kernel.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": include_name})
        return list(compare_metadata(ctx, metadata))


def versions(kernel: Kernel) -> set[str]:
    with kernel.engine.connect() as conn:
        return set(conn.scalars(text("SELECT version_num FROM alembic_version")))


def applied(kernel: Kernel) -> set[str]:
    """Every revision the recorded heads stand for, dependencies included."""
    with kernel.engine.connect() as conn:
        script = ScriptDirectory.from_config(alembic_config(kernel, conn))
        heads = MigrationContext.configure(conn).get_current_heads()
        return {r.revision for r in script.revision_map.iterate_revisions(heads, "base")}


def head(kernel: Kernel, branch: str) -> str:
    with kernel.engine.connect() as conn:
        script = ScriptDirectory.from_config(alembic_config(kernel, conn))
        return script.get_revision(f"{branch}@head").revision


def table_names(kernel: Kernel) -> set[str]:
    with kernel.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


@pytest.fixture
def empty_kernel(crm_database_url: str, tmp_path: Path) -> Iterator[Kernel]:
    """A kernel on a database with no tables at all."""
    is_pg = crm_database_url.startswith("postgresql")
    url = _pg_create_database(crm_database_url) if is_pg else f"sqlite:///{tmp_path / 'e.db'}"
    k = Kernel(settings_for(url), autoload=False, strict=True)
    yield k
    k.shutdown()
    if is_pg:
        _pg_drop_database(url)


@pytest.fixture
def migplug(monkeypatch: pytest.MonkeyPatch) -> Manifest:
    # crm_core.testing resets alembic_version to the kernel's heads between tests
    monkeypatch.syspath_prepend(str(FIXTURES))
    return importlib.import_module("migplug.manifest").MANIFEST


def test_migrate_builds_an_empty_database_once(empty_kernel: Kernel) -> None:
    applied = migrate(empty_kernel)
    assert applied and all(line.startswith("applied core_") for line in applied)
    assert versions(empty_kernel) == {head(empty_kernel, "core")}
    assert schema_diff(empty_kernel) == []
    assert migrate(empty_kernel) == []
    assert versions(empty_kernel) == {head(empty_kernel, "core")}


def test_fixture_database_matches_models(kernel: Kernel) -> None:
    assert schema_diff(kernel) == []
    assert migrate(kernel) == []


def test_enabling_a_plugin_migrates_its_branch(make_kernel: Any, migplug: Manifest) -> None:
    k = make_kernel(plugins=[migplug])
    core_head = head(k, "core")
    assert "migplug_item" not in table_names(k)

    assert enable_plugins(k, ["migplug"]) == ["migplug"]

    assert "migplug_item" in table_names(k)
    assert head(k, "migplug") == "migplug_0001"
    # Alembic records effective heads only: migplug_0001 depends on a core revision, so its row
    # stands for that part of the core branch (a later core head keeps its own row), and the
    # core branch stays applied (nothing left to run).
    assert "migplug_0001" in versions(k) <= {"migplug_0001", core_head}
    assert core_head in applied(k)
    assert migrate(k) == []
    assert migrate(k, ["migplug"]) == []
    assert schema_diff(k, ("migplug",)) == []


def test_plugin_without_migrations_gets_its_tables_created(make_kernel: Any) -> None:
    k = make_kernel(plugins=[NOMIG])
    assert migrate(k, ["nomig"]) == ["nomig: created table nomig_note"]
    assert migrate(k, ["nomig"]) == []
    assert schema_diff(k, ("nomig",)) == []
    assert versions(k) == {head(k, "core")}


def test_customer_name_fts_follows_insert_update_delete(kernel: Kernel) -> None:
    if kernel.engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 trigram index is the SQLite search index")
    table = Customer.__table__

    def find(fragment: str) -> list[int]:
        sql = text("SELECT rowid FROM crm_customer_fts WHERE crm_customer_fts MATCH :q")
        with kernel.engine.connect() as conn:
            return list(conn.scalars(sql, {"q": f'"{fragment}"'}))

    with kernel.write_engine.begin() as conn:
        cid = conn.execute(
            insert(table).values(code="C1", name="上海明远科技有限公司", custom={})
        ).inserted_primary_key[0]
        conn.execute(insert(table).values(code="C2", name="北京星河贸易公司", custom={}))
    assert find("科技有") == [cid]

    with kernel.write_engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == cid).values(name="杭州云栖数据有限公司"))
    assert find("科技有") == []
    assert find("云栖数") == [cid]

    with kernel.write_engine.begin() as conn:
        conn.execute(delete(table).where(table.c.id == cid))
    assert find("云栖数") == []
    assert len(find("星河贸")) == 1


def test_customer_name_trgm_index_on_postgresql(kernel: Kernel) -> None:
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("the pg_trgm index is the PostgreSQL search index")
    sql = text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_crm_customer_name_trgm'")
    with kernel.engine.connect() as conn:
        indexdef = conn.scalar(sql)
    assert indexdef is not None
    assert "gin" in indexdef.lower() and "gin_trgm_ops" in indexdef
