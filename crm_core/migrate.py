"""Schema migrations: Alembic, one branch per plugin.

The kernel's revisions live in ``crm_core/migrations/versions`` (branch ``core``). A plugin whose
manifest names ``migrations`` keeps its revisions in that package: its first revision carries
``branch_labels=("<plugin>",)`` and ``depends_on`` the core revision it builds on; revision ids
are ``<plugin>_0001``, ``<plugin>_0002``… so they never clash across branches. A plugin without
``migrations`` gets its declared tables created directly (fine for small or dev plugins; such
tables are never altered later). Nothing here downgrades or drops.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from crm_core.errors import PluginError
from crm_core.locks import advisory_key

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
CORE = "core"
# Created by the core revision outside the models (customer name search); autogenerate and
# schema comparisons skip them.
SEARCH_OBJECTS = ("crm_customer_fts", "ix_crm_customer_name_trgm")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` filter: hide the search index objects from autogenerate."""
    return not (name or "").startswith(SEARCH_OBJECTS)


def plugin_migration_dirs(kernel: Kernel) -> dict[str, Path]:
    """Revision directories of the known plugins that declare ``migrations``."""
    dirs: dict[str, Path] = {}
    for name, manifest in kernel.host.manifests().items():
        if not manifest.migrations:
            continue
        spec = importlib.util.find_spec(manifest.migrations)
        if spec is None or not spec.submodule_search_locations:
            raise PluginError(
                f"plugin {name}: migrations package {manifest.migrations!r} cannot be found"
            )
        dirs[name] = Path(next(iter(spec.submodule_search_locations)))
    return dirs


def alembic_config(kernel: Kernel, connection: Connection) -> Config:
    """An in-memory Alembic config: core revisions plus every known plugin's revisions."""
    locations = [MIGRATIONS_DIR / "versions", *plugin_migration_dirs(kernel).values()]
    cfg = Config()
    cfg.set_main_option("script_location", _ini(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(_ini(p) for p in locations))
    cfg.attributes["connection"] = connection
    cfg.attributes["applied"] = []
    return cfg


def _ini(path: Path) -> str:
    return str(path).replace("%", "%%")  # Config values go through configparser interpolation


def migrate(kernel: Kernel, plugins: list[str] | None = None) -> list[str]:
    """Bring the core branch and each plugin's branch (default: the enabled plugins) to head.

    Idempotent; runs in one write transaction. Returns what was applied, one line per step.
    """
    if plugins is None:
        enabled = kernel.host.enabled(refresh=True)
        plugins = [n for n in kernel.host.order if n in enabled]
    manifests = kernel.host.manifests()
    with kernel.write_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # two processes migrating at once queue here (SQLite: BEGIN IMMEDIATE does it)
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({advisory_key('crm-migrate')})")
        cfg = alembic_config(kernel, conn)
        lines: list[str] = cfg.attributes["applied"]
        _upgrade(cfg, f"{CORE}@head")
        for name in plugins:
            manifest = manifests.get(name)
            if manifest is None:
                raise PluginError(f"no plugin named {name!r} is installed")
            if manifest.migrations:
                _upgrade(cfg, f"{name}@head")
                continue
            existing = set(inspect(conn).get_table_names())
            tables = kernel.plugin_tables(name)
            SQLModel.metadata.create_all(conn, tables=tables)
            lines.extend(
                f"{name}: created table {t.name}" for t in tables if t.name not in existing
            )
    return lines


def _upgrade(cfg: Config, target: str) -> None:
    try:
        command.upgrade(cfg, target)
    except CommandError as exc:
        hint = ""
        if "Can't locate revision" in str(exc):
            hint = " (alembic_version names a revision no installed plugin provides)"
        raise PluginError(f"cannot migrate {target}: {exc}{hint}") from exc


def enable_plugins(kernel: Kernel, names: list[str]) -> list[str]:
    """Enable plugins with their dependencies, migrating their tables first."""
    todo = kernel.host.plan_enable(names)
    migrate(kernel, todo)
    kernel.host.set_enabled(todo, True)
    from crm_core.services.roles import seed_builtin_grants

    seed_builtin_grants(kernel.ctx())
    return todo


def new_revision(kernel: Kernel, plugin: str, message: str) -> Path:
    """Autogenerate the next revision of ``plugin``'s branch (``"core"`` for the kernel) from
    the difference between its models and the database, which must be migrated to head.

    Only tables named ``<plugin>_…`` (``crm_…`` for core) are compared. Review the file."""
    dirs = {CORE: MIGRATIONS_DIR / "versions", **plugin_migration_dirs(kernel)}
    if plugin not in dirs:
        raise PluginError(f"plugin {plugin} has no migrations package in its manifest")
    with kernel.engine.connect() as conn:
        cfg = alembic_config(kernel, conn)
        cfg.attributes["table_prefix"] = "crm_" if plugin == CORE else f"{plugin}_"
        script = ScriptDirectory.from_config(cfg)
        ours = [r for r in script.walk_revisions() if re.fullmatch(rf"{plugin}_\d{{4}}", r.revision)]
        first = not ours
        depends = None if plugin == CORE or not first else script.get_revision(f"{CORE}@head")
        rev_id = f"{plugin}_{len(ours) + 1:04d}"
        made = command.revision(
            cfg, message, autogenerate=True, rev_id=rev_id,
            head="base" if first else f"{plugin}@head", branch_label=plugin if first else None,
            depends_on=depends.revision if depends else None, version_path=str(dirs[plugin]),
        )
    assert made is not None and not isinstance(made, list)
    path = Path(made.path)
    return path.rename(path.with_name(f"{len(ours) + 1:04d}{path.name[len(rev_id):]}"))
