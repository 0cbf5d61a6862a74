"""The kernel's hook contract — every hook a plugin may implement, in one file.

Families:

* ``register_*``: declarations. Called once when the kernel starts, for every loaded plugin;
  all results are collected (a list per plugin, flattened). Each contribution is namespaced with
  the plugin's name and a clash is a startup error naming both plugins.
* ``on_*``: notifications. Return values are ignored. Event notifications run after the
  writing transaction commits; each plugin's error is isolated, logged and retried with back-off.
* ``*_from_request``: first non-``None`` result wins (synchronous).
* UI slots (``customer_panels``, ``dashboard_widgets``): all results, flattened, sorted by order.
* ``validate_entity``: all results; every returned error is shown to the user.

Hooks of a disabled plugin are never called. Order: plugins register in dependency order (ties
alphabetical) and pluggy calls the last registered first, so a plugin runs before the plugins it
depends on; the kernel's own defaults run last (``trylast``).

A hook implementation may return a value or an awaitable; the kernel resolves both, except for
first-result hooks, which must be synchronous.

Every hook lists the core version that added it (``Added in``) and the deprecation policy is in
docs/plugin-hooks.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

if TYPE_CHECKING:
    import click
    from starlette.requests import Request

    from crm_core.context import Ctx
    from crm_core.declarations import Action, CustomerMatch, EntityDecl, JobDecl, MenuItem, Panel, RouteDecl
    from crm_core.events import DomainEvent
    from crm_core.kernel import Kernel
    from crm_core.permissions.actor import Actor

PROJECT = "crm"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
F = TypeVar("F", bound=Callable[..., Any])


# --- deprecation --------------------------------------------------------------------------
class HookDeprecationWarning(DeprecationWarning):
    """A plugin implements a hook that is deprecated (and will be removed)."""


@dataclass(frozen=True)
class Deprecation:
    hook: str
    since: str
    replacement: str
    removed_in: str | None = None

    @property
    def message(self) -> str:
        removal = f"; it will be removed in {self.removed_in}" if self.removed_in else ""
        return (f"hook {self.hook} is deprecated since core {self.since}{removal}: "
                f"implement {self.replacement} instead")


def deprecated(since: str, replacement: str, removed_in: str | None = None,
               **spec_opts: Any) -> Callable[[F], F]:
    """Mark a hook specification deprecated (the policy: docs/plugin-hooks.md, "Versioning and
    deprecation policy"). A plugin implementing it gets a :class:`HookDeprecationWarning` naming
    ``replacement`` when it registers (pluggy's ``warn_on_impl``), a warning in the
    ``crm.plugins`` log, and its implementation keeps working: the kernel calls it as an alias of
    ``replacement`` (same arguments or a subset) until the hook is removed::

        @deprecated(since="0.3", replacement="on_customers_merged", removed_in="0.5")
        def on_customer_merge(kernel: Kernel, event: DomainEvent) -> None:
            '''Deprecated since 0.3: implement on_customers_merged.'''

    (``deprecated`` marks the function as a hook specification itself.)
    """

    def mark(func: F) -> F:
        info = Deprecation(func.__name__, since, replacement, removed_in)
        func.crm_deprecation = info  # type: ignore[attr-defined]
        marked: F = hookspec(warn_on_impl=HookDeprecationWarning(info.message), **spec_opts)(func)
        return marked

    return mark


def deprecation_of(spec_function: Any) -> Deprecation | None:
    """The :class:`Deprecation` of a hook specification function, if it is deprecated."""
    info = getattr(spec_function, "crm_deprecation", None)
    return info if isinstance(info, Deprecation) else None


# --- startup ------------------------------------------------------------------------------
@hookspec
def on_startup(kernel: Kernel) -> None:
    """The kernel has loaded every plugin and its database is reachable.

    :param kernel: the running kernel.
    Called once per process, for enabled plugins, before the first request or job.
    Added in 0.1.
    """


@hookspec
def on_shutdown(kernel: Kernel) -> None:
    """The process is stopping; release what ``on_startup`` acquired.

    :param kernel: the running kernel.
    Added in 0.1.
    """


# --- registration -------------------------------------------------------------------------
@hookspec
def register_entities(kernel: Kernel) -> list[EntityDecl]:
    """Declare the tables this plugin owns and how record scope reaches them.

    :param kernel: the kernel being built.
    :return: entity declarations. Table names must start with ``<plugin>_``.
    Called once at startup for every loaded plugin (enabled or not).
    Added in 0.1.
    """


@hookspec
def register_permissions(kernel: Kernel) -> list[Action]:
    """Declare the actions this plugin checks, with default grants for the built-in roles.

    :param kernel: the kernel being built.
    :return: actions named ``<plugin>.<verb>``.
    Called once at startup for every loaded plugin; new defaults are granted to built-in roles
    when the plugin is first enabled.
    Added in 0.1.
    """


@hookspec
def register_routes(kernel: Kernel) -> list[RouteDecl]:
    """Declare pages and API endpoints, mounted under ``/<plugin>`` and ``/api/v1/<plugin>``.

    :param kernel: the kernel being built.
    :return: route declarations, each naming the permission it needs.
    A disabled plugin's routes answer 404.
    Added in 0.1.
    """


@hookspec
def register_menu_items(kernel: Kernel) -> list[MenuItem]:
    """Declare navigation entries; a user sees those whose permission they hold.

    :param kernel: the kernel being built.
    :return: menu items.
    Added in 0.1.
    """


@hookspec
def register_jobs(kernel: Kernel) -> list[JobDecl]:
    """Declare scheduled jobs with stable ids ``<plugin>.<job>`` and a misfire grace time.

    :param kernel: the kernel being built.
    :return: job declarations. A disabled plugin's jobs do not run.
    Added in 0.1.
    """


@hookspec
def register_cli_commands(kernel: Kernel) -> list[click.Command]:
    """Declare ``crm`` sub-commands; each is added as ``crm <plugin> …``.

    :param kernel: the kernel being built.
    :return: click commands or groups.
    Called when the ``crm`` command line builds its command tree, for enabled plugins.
    Added in 0.1.
    """


# --- request / actor ----------------------------------------------------------------------
@hookspec(firstresult=True)
def actor_from_request(kernel: Kernel, request: Request) -> Actor | None:
    """Identify who makes a web or API request (session cookie, bearer token, SSO header…).

    :param kernel: the running kernel.
    :param request: the incoming Starlette request.
    :return: the actor, or ``None`` to let the next implementation try. First non-None wins;
        must be synchronous.
    Added in 0.1.
    """


# --- entity lifecycle ---------------------------------------------------------------------
@hookspec
def validate_entity(
    kernel: Kernel, ctx: Ctx, entity: str, data: dict[str, Any], existing: Any
) -> dict[str, list[str]] | None:
    """Add validation rules to any entity's create and update.

    :param kernel: the running kernel.
    :param ctx: who is writing, from which interface.
    :param entity: the entity name (``customer``, ``contact``, ``followup``, ``leads.lead``…).
    :param data: the normalised values about to be written.
    :param existing: the row before the change, or ``None`` on create.
    :return: field → messages; any message refuses the write and nothing is stored.
    Called inside the writing transaction, before the write.
    Added in 0.1.
    """


@hookspec
def on_entity_created(kernel: Kernel, event: DomainEvent) -> None:
    """A record was created (after commit).

    :param kernel: the running kernel.
    :param event: the domain event (``name`` like ``customer.created``, ``entity_id``,
        ``payload`` with the new values, masked fields excluded).
    Delivered once per plugin; errors are isolated and retried with back-off.
    Added in 0.1.
    """


@hookspec
def on_entity_updated(kernel: Kernel, event: DomainEvent) -> None:
    """A record was changed (after commit); ``event.payload["changes"]`` holds before/after.

    :param kernel: the running kernel.
    :param event: the domain event.
    Added in 0.1.
    """


@hookspec
def on_entity_deleted(kernel: Kernel, event: DomainEvent) -> None:
    """A record was deleted (after commit); ``event.payload`` holds its last values.

    :param kernel: the running kernel.
    :param event: the domain event.
    Added in 0.1.
    """


@hookspec
def on_event(kernel: Kernel, event: DomainEvent) -> None:
    """Every domain event, including those plugins emit themselves (``opportunity.won``…).

    :param kernel: the running kernel.
    :param event: the domain event.
    Added in 0.1.
    """


@hookspec
def find_customer_matches(
    kernel: Kernel, ctx: Ctx, name: str | None, phone: str | None, email: str | None
) -> list[CustomerMatch]:
    """Offer existing customers that may be the same as the given details.

    :param kernel: the running kernel.
    :param ctx: who asks (matches are limited to what they may read).
    :param name: a company or person name, or ``None``.
    :param phone: an E.164 phone, or ``None``.
    :param email: a normalised email, or ``None``.
    :return: matches with a score 0–100 and a reason; the kernel answers exact phone/email
        matches, a dedup plugin may add fuzzy ones. Results are merged by customer id.
    Added in 0.1.
    """


# --- demo data ----------------------------------------------------------------------------
@hookspec
def load_demo_data(kernel: Kernel, ctx: Ctx, seed: int) -> None:
    """Add this plugin's demo records after ``crm demo`` loaded the kernel's demo data.

    :param kernel: the running kernel.
    :param ctx: a system context; use ``crm_core.services.users.actor_for`` to act as a demo
        user (logins in ``crm_core.demo.USERS``).
    :param seed: the demo's random seed: the same seed must give the same records.
    Called once per ``crm demo`` run for each enabled plugin, **in dependency order** (a plugin
    after the plugins it depends on), so it can use their demo records. An error stops the demo.
    Added in 0.1.
    """


# --- UI slots -----------------------------------------------------------------------------
@hookspec
def customer_panels(kernel: Kernel, ctx: Ctx, customer: Any) -> list[Panel]:
    """Blocks shown on the customer 360° page.

    :param kernel: the running kernel.
    :param ctx: who is looking.
    :param customer: the customer as that user may see it.
    :return: panels (HTML already escaped by the plugin's templates).
    Added in 0.1.
    """


@hookspec
def dashboard_widgets(kernel: Kernel, ctx: Ctx) -> list[Panel]:
    """Blocks shown on the home dashboard.

    :param kernel: the running kernel.
    :param ctx: who is looking.
    :return: widgets.
    Added in 0.1.
    """
