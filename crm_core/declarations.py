"""The value types plugins return from ``register_*`` hooks and UI slots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SCOPES = ("own", "team", "all")
SCOPE_RANK = {"own": 1, "team": 2, "all": 3}


@dataclass(frozen=True)
class Action:
    """A permission. ``entity`` set means the action is on records and takes a scope.

    ``defaults`` maps a built-in role name to the scope it gets (``"all"``, ``"team"``,
    ``"own"``) or ``True`` for actions without records; it seeds the built-in roles.
    """

    name: str  # "<plugin>.<verb>", kernel actions: "customers.read"
    label: str
    label_en: str = ""
    entity: str | None = None
    defaults: dict[str, str | bool] = field(default_factory=dict)
    sensitive: bool = False  # needs re-authentication in the web layer


@dataclass(frozen=True)
class EntityDecl:
    """A table a plugin owns, and how record scope reaches it.

    Either ``owner_column`` (the row has an owner user id) or ``parent`` (``(fk_column,
    parent_entity_name)``: the row is visible when its parent is).
    """

    name: str  # "customer", "leads.lead"
    model: type[Any]  # a SQLModel table class; its columns are dynamic attributes
    label: str = ""
    label_en: str = ""
    owner_column: str | None = None
    parent: tuple[str, str] | None = None
    read_action: str | None = None
    sensitive_fields: dict[str, str] = field(default_factory=dict)  # field → action to see it
    custom_fields: bool = False


@dataclass(frozen=True)
class CustomerMatch:
    """An existing customer that may be the same as given details (``find_customer_matches``)."""

    customer_id: int
    name: str
    score: int  # 0–100
    reason: str  # "same phone", "similar name"…


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str
    label_en: str
    path: str
    permission: str | None = None
    order: int = 100
    icon: str = ""


@dataclass(frozen=True)
class Panel:
    """A block on the customer 360° page (or any UI slot)."""

    key: str
    title: str
    html: str
    order: int = 100


Widget = Panel


@dataclass(frozen=True)
class JobDecl:
    """A scheduled job. ``id`` is stable and namespaced ``<plugin>.<job>``.

    ``trigger`` is ``"interval"`` or ``"cron"`` with ``trigger_args`` as APScheduler takes them
    (``{"minutes": 5}``, ``{"hour": 2}``). ``func(kernel, fire_key)`` does the work.
    """

    id: str
    func: Callable[..., Any]
    trigger: str = "interval"
    trigger_args: dict[str, Any] = field(default_factory=lambda: {"minutes": 5})
    misfire_grace_time: int = 60
    description: str = ""


@dataclass(frozen=True)
class RouteDecl:
    """Starlette routes a plugin contributes, mounted under ``/<plugin>`` and
    ``/api/v1/<plugin>`` (``api=True``). ``permission`` is the action the route needs; ``None``
    means any signed-in user (deny by default) and ``"public"`` opens it to anonymous visitors
    (web forms, feeds with their own secret).

    The optional fields document an API route (``api=True``) in ``/api/v1/openapi.json`` while
    the plugin is enabled: pydantic models for the JSON body (``request_model``), the success
    answer (``response_model``, with ``status_code``) and the query string (``query_model``: one
    parameter per field). Validate with the same models in the endpoint —
    ``crm_core.web.api.read_body`` / ``read_query`` do that and answer 400/422 problems.
    ``name`` becomes the operation id ``<plugin>.<name>``. ``csrf=False`` is accepted only on
    ``"public"`` routes (a form embedded on another site, bound to its own token)."""

    path: str
    endpoint: Callable[..., Any]
    methods: tuple[str, ...] = ("GET",)
    permission: str | None = None
    api: bool = False
    name: str | None = None
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    request_model: type[Any] | None = None
    response_model: type[Any] | None = None
    query_model: type[Any] | None = None
    status_code: int = 200
    # False only for a public endpoint bound to its own secret (an embeddable web form posting
    # from another site): such a POST carries no ambient credential worth protecting.
    csrf: bool = True
