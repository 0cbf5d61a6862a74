"""``crm demo``: load the demo data with a progress bar, then print the demo logins once."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import click

from crm_core.cli.output import print_table, progress, say
from crm_core.cli.state import CliState, pass_state
from crm_core.permissions.catalog import BUILTIN_ROLES


class _Bar:
    """Progress bars, shown from the first phase on (a refusal prints nothing else)."""

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.p: Any = None
        self.task: Any = None

    def phase(self, description: str, total: int) -> None:
        if self.p is None:
            self.p = self.stack.enter_context(progress())
        if self.task is not None:
            self.p.update(self.task, completed=self.p.tasks[self.task].total)
        self.task = self.p.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        self.p.advance(self.task, n)


@click.command()
@click.option("--customers", "count", type=click.IntRange(0, 100_000), default=500, show_default=True,
              help="How many customers to create.")
@click.option("--seed", type=int, default=None, help="Same seed, same data (and passwords).")
@click.option("--force", is_flag=True, help="Add another batch even if demo data is loaded.")
@pass_state
def demo(state: CliState, count: int, seed: int | None, force: bool) -> None:
    """Load realistic demo data: 3 teams, 10 users covering every role, customers with
    contacts and follow-ups. Refuses to run twice on one database unless --force."""
    from crm_core.demo import load_demo

    kernel = state.kernel()
    with ExitStack() as stack:
        result = load_demo(kernel, customers=count, seed=seed, force=force, reporter=_Bar(stack))
    say(f"Demo data: {result.customers} customers, {result.contacts} contacts, "
        f"{result.followups} follow-ups, teams {', '.join(result.teams_created) or '(kept)'} "
        f"in {result.seconds:.1f} s (seed {result.seed})")
    rows = []
    for a in result.accounts:
        zh, en, _desc = BUILTIN_ROLES[a.user.role]
        rows.append([a.user.login, a.user.name, f"{a.user.role} ({zh} / {en})", a.user.team or "",
                     a.password or "(unchanged)"])
    print_table(["login", "name", "role", "team", "password"], rows,
                title="Demo users — passwords are shown only this once:")
