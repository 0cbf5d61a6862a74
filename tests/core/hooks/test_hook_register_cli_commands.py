"""register_cli_commands: no kernel call path yet (the ``crm`` CLI is not built); called through
the host's hook caller, which is what the CLI will use, with the disabled-plugin filtering."""

from __future__ import annotations

from collections.abc import Callable

import click
from click.testing import CliRunner

from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins
from crm_core.plugin_system.manifest import Manifest


@click.group(name="hkcli")
def group() -> None:
    """hkcli commands."""


@group.command()
def hello() -> None:
    click.echo("hello from hkcli")


class Hooks:
    @hookimpl
    def register_cli_commands(self, kernel: Kernel) -> list[click.Command]:
        return [group]


def commands(k: Kernel) -> list[click.Command]:
    return [c for result in k.host.hook_caller("register_cli_commands")(kernel=k) for c in result]


def test_hook_register_cli_commands(make_kernel: Callable[..., Kernel]) -> None:
    k = make_kernel(plugins=[Manifest(name="hkcli", version="0.1.0", hooks=Hooks())])
    assert commands(k) == []

    enable_plugins(k, ["hkcli"])
    (cmd,) = commands(k)
    assert cmd.name == "hkcli"
    result = CliRunner().invoke(cmd, ["hello"])
    assert result.exit_code == 0 and result.output == "hello from hkcli\n"
