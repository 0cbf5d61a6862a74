"""The ``crm`` command line (click). ``cli`` is the root group, ``main`` the console script."""

from __future__ import annotations

from crm_core.cli.main import cli, main
from crm_core.cli.state import CLIError, CliState, pass_state

__all__ = ["CLIError", "CliState", "cli", "main", "pass_state"]
