"""Hooks the tasks plugin offers to the plugins that depend on it.

``tasks_reminder_rules(kernel) -> list[dict]`` — the reminder rules a plugin implements, so the
rules page and ``/api/v1/tasks/rules`` list them. Each dict has ``key`` (namespaced by the
plugin: ``tasks_leads.lead_uncontacted``), ``plugin``, ``label`` (Chinese), ``label_en``,
``unit`` (``"days"`` or ``"hours"``), the default ``threshold`` and ``enabled``. The row is
added once; the administrator's later changes stick. The plugin runs the rule in its own job and
reads the settings with :func:`crm_tasks.services.rules.rule_settings`. All results, flattened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

hookspec = pluggy.HookspecMarker("crm")


@hookspec
def tasks_reminder_rules(kernel: Kernel) -> list[dict[str, Any]]:  # type: ignore[empty-body]
    """The reminder rules the plugin implements (see the module docstring)."""
