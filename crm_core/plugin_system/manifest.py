"""The plugin manifest: plain data, readable without importing the plugin's models."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from crm_core.errors import PluginError

STAGES = ("startup", "growth", "mature", "traditional")
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
# Plugin names are namespaces (tables, routes, permissions, job ids): the kernel's own are taken.
KERNEL_NAMESPACES = frozenset({
    "customers", "contacts", "followups", "users", "teams", "roles", "custom_fields", "plugins",
    "audit",
})
RESERVED_NAMES = frozenset(
    {"core", "crm", "api", "admin", "static", "auth", "login", "logout"} | KERNEL_NAMESPACES
)


@dataclass(frozen=True)
class Manifest:
    """What a plugin says about itself.

    ``hooks`` is the dotted path of the module holding the hook implementations (imported only
    when the plugin is loaded) or, for plugins built in code (tests, examples), the object itself.
    ``migrations`` is the dotted path of the package holding its Alembic revisions (branch label =
    plugin name); without it, the kernel creates the plugin's declared tables directly.
    ``hookspecs`` is the dotted path of the module (or the object) holding the hook
    specifications this plugin lets its dependents implement; they are added before the plugin
    registers, so a dependent's implementations are checked against them.
    """

    name: str
    version: str
    summary: str = ""
    category: str = "other"
    depends: tuple[str, ...] = ()
    requires_core: str = ">=0.1"
    stages: tuple[str, ...] = ()
    auto_install: bool = False
    hooks: Any = None
    migrations: str | None = None
    label: dict[str, str] = field(default_factory=dict)  # locale → display name
    summary_i18n: dict[str, str] = field(default_factory=dict)
    hookspecs: Any = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name or ""):
            raise PluginError(
                f"plugin name {self.name!r} must be 2–40 lowercase letters, digits or _ "
                "and start with a letter"
            )
        if self.name in RESERVED_NAMES:
            raise PluginError(f"plugin name {self.name!r} is reserved")
        try:
            Version(self.version)
        except InvalidVersion:
            raise PluginError(f"plugin {self.name}: version {self.version!r} is not valid") from None
        try:
            SpecifierSet(self.requires_core)
        except InvalidSpecifier:
            raise PluginError(
                f"plugin {self.name}: requires_core {self.requires_core!r} is not a version "
                "specifier such as '>=0.1,<1'"
            ) from None
        bad = [s for s in self.stages if s not in STAGES]
        if bad:
            raise PluginError(f"plugin {self.name}: unknown growth stage(s) {bad}; use {STAGES}")
        object.__setattr__(self, "depends", tuple(self.depends))
        object.__setattr__(self, "stages", tuple(self.stages))

    def compatible_with(self, core_version: str) -> bool:
        return SpecifierSet(self.requires_core).contains(Version(core_version), prereleases=True)

    def display_name(self, locale: str = "en") -> str:
        return self.label.get(locale) or self.label.get("en") or self.name
