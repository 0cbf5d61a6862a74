"""What every ``crm`` command shares: settings, one lazily built kernel, the system actor.

Plugin commands (``register_cli_commands``) find it as ``click.get_current_context().obj``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from crm_core.permissions.actor import SYSTEM
from crm_core.plugin_system.manifest import Manifest
from crm_core.settings import Settings, load_settings

if TYPE_CHECKING:
    from crm_core.context import Ctx
    from crm_core.kernel import Kernel


class CLIError(click.ClickException):
    """A user's mistake: one ``Error: …`` line on stderr, exit status 1."""

    exit_code = 1


@dataclass
class CliState:
    """``plugins``: extra manifests registered in code (tests, embedding applications)."""

    plugins: tuple[Manifest, ...] = ()
    config_file: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _kernel: Kernel | None = field(default=None, repr=False)
    plugin_commands: dict[str, click.Command] | None = field(default=None, repr=False)
    plugin_command_errors: dict[str, str] = field(default_factory=dict, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file)
        return self._settings

    def kernel(self, start: bool = True) -> Kernel:
        """The kernel of this invocation. ``start`` runs the plugins' ``on_startup`` (not
        wanted before the database is migrated)."""
        if self._kernel is None:
            from crm_core.kernel import Kernel

            self._kernel = Kernel(self.settings(), plugins=self.plugins)
        if start and not self._kernel.started:
            self._kernel.startup()
        return self._kernel

    def ctx(self) -> Ctx:
        """Admin commands act as the system actor through the ``cli`` interface."""
        return self.kernel().ctx(SYSTEM, "cli")

    def close(self) -> None:
        kernel, self._kernel = self._kernel, None
        self._settings = None
        self.plugin_commands = None
        self.plugin_command_errors = {}
        if kernel is not None:
            kernel.shutdown()


pass_state = click.make_pass_decorator(CliState, ensure=True)
