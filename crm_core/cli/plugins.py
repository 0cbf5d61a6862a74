"""``crm plugins list|info|enable|disable|new``."""

from __future__ import annotations

import click

from crm_core.cli.output import print_fields, print_table, say
from crm_core.cli.state import CliState, pass_state
from crm_core.plugin_system.resolve import dependency_closure, dependents_closure


@click.group()
def plugins() -> None:
    """Installed plugins (modules): list, inspect, enable, disable."""


@plugins.command("list")
@pass_state
def list_cmd(state: CliState) -> None:
    """Every installed plugin with its state; failed plugins with their error."""
    kernel = state.kernel()
    host = kernel.host
    enabled = host.enabled(refresh=True)
    rows = []
    for name in sorted(host.records):
        rec = host.records[name]
        m = rec.manifest
        rows.append([
            name, m.version if m else "?", name in enabled, rec.status,
            ", ".join(m.stages) if m else "", ", ".join(m.depends) if m else "",
            m.summary if m else "",
        ])
    print_table(["name", "version", "enabled", "status", "stages", "depends", "summary"], rows,
                empty="No plugin is installed (plugins register through the `crm.plugins` entry "
                      "point group).")
    for name in sorted(host.records):
        rec = host.records[name]
        if not rec.ok:
            say(f"{name} failed: {rec.error}", style="red")


@plugins.command("info")
@click.argument("name")
@pass_state
def info(state: CliState, name: str) -> None:
    """A plugin's manifest and everything it contributes."""
    kernel = state.kernel()
    host = kernel.host
    rec = host.record(name)
    m = rec.manifest
    manifests = host.manifests()
    fields: list[tuple[str, object]] = [
        ("name", name),
        ("status", rec.status if rec.ok else f"failed: {rec.error}"),
        ("enabled", name in host.enabled(refresh=True)),
        ("source", rec.source),
    ]
    if m is not None:
        fields += [
            ("version", m.version),
            ("label", " / ".join(f"{k}: {v}" for k, v in sorted(m.label.items())) or m.name),
            ("summary", m.summary),
            ("category", m.category),
            ("stages", ", ".join(m.stages) or "-"),
            ("depends", ", ".join(m.depends) or "-"),
            ("all dependencies", ", ".join(sorted(dependency_closure(manifests, [name]) - {name}))
             or "-"),
            ("dependents", ", ".join(sorted(dependents_closure(manifests, [name]))) or "-"),
            ("requires core", m.requires_core),
            ("auto install", m.auto_install),
            ("migrations", m.migrations or "(tables created directly)"),
        ]
    hooks: list[str] = []
    if rec.obj is not None and host.pm.is_registered(rec.obj):
        hooks = sorted(hc.name for hc in host.pm.get_hookcallers(rec.obj) or [])
    fields.append(("hooks", ", ".join(hooks) or "-"))
    deprecated = host.deprecated_hooks(name)
    if deprecated:
        fields.append(("deprecated hooks", "; ".join(d.message for d in deprecated)))
    fields.append(("tables", ", ".join(sorted(t for t, p in kernel.tables.items() if p == name))
                   or "-"))
    print_fields(fields, title=f"Plugin {name}")
    actions = sorted((a for a, p in kernel.actions.values() if p == name), key=lambda a: a.name)
    if actions:
        print_table(["permission", "label", "scoped", "default grants"], [
            [a.name, f"{a.label} / {a.label_en}" if a.label_en else a.label, bool(a.entity),
             ", ".join(f"{r}={v if isinstance(v, str) else 'yes'}" for r, v in a.defaults.items())]
            for a in actions], title="Permissions")
    routes = [r for r, p in kernel.routes if p == name]
    if routes:
        print_table(["path", "methods", "kind", "permission"], [
            [(f"/api/v1/{name}" if r.api else f"/{name}") + r.path, ", ".join(r.methods),
             "api" if r.api else "page", r.permission or "(public)"] for r in routes],
            title="Routes")
    jobs = sorted((j for j, p in kernel.jobs.values() if p == name), key=lambda j: j.id)
    if jobs:
        print_table(["id", "trigger", "misfire grace", "description"], [
            [j.id, f"{j.trigger} {j.trigger_args}", f"{j.misfire_grace_time}s", j.description]
            for j in jobs], title="Jobs")


@plugins.command("new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Folder to create (default: ./NAME). It must not exist yet.")
def new(name: str, directory: str | None) -> None:
    """Create a new plugin distribution NAME from the template, with tests that pass."""
    from pathlib import Path

    from crm_core.cli.plugin_new import render_plugin

    target = render_plugin(name, Path(directory) if directory else None)
    say(f"Created plugin {name} in {target}")
    say(f"Next: pip install -e '{target}[test]', run pytest in {target}, then "
        f"`crm plugins enable {name}` (docs/integrators.md).")


@plugins.command("enable")
@click.argument("names", nargs=-1, required=True)
@pass_state
def enable(state: CliState, names: tuple[str, ...]) -> None:
    """Enable plugins (and what they depend on), migrating their tables first."""
    from crm_core.services import plugins as plugin_svc

    kernel = state.kernel()
    wanted = list(dict.fromkeys(names))
    for n in wanted:
        kernel.host.record(n)  # unknown names fail before anything changes
    done = plugin_svc.enable(state.ctx(), wanted)
    deps = dependency_closure(kernel.host.manifests(), wanted) - set(wanted)
    asked = [n for n in done if n in wanted]
    needed = [n for n in done if n in deps]
    glue = [n for n in done if n not in wanted and n not in deps]
    if asked:
        say(f"Enabled: {', '.join(asked)}")
    if needed:
        say(f"Also enabled as dependencies: {', '.join(needed)}")
    if glue:
        say(f"Also enabled automatically (glue plugins whose dependencies are now on): "
            f"{', '.join(glue)}")
    already = [n for n in wanted if n not in done]
    if already:
        say(f"Already enabled: {', '.join(already)}")


@plugins.command("disable")
@click.argument("names", nargs=-1, required=True)
@click.option("--cascade", is_flag=True, help="Also disable the enabled plugins that depend on them.")
@pass_state
def disable(state: CliState, names: tuple[str, ...], cascade: bool) -> None:
    """Disable plugins; their data stays and comes back when they are enabled again."""
    from crm_core.services import plugins as plugin_svc

    wanted = list(dict.fromkeys(names))
    todo = plugin_svc.disable(state.ctx(), wanted, cascade=cascade)
    asked = [n for n in todo if n in wanted]
    others = [n for n in todo if n not in wanted]
    if asked:
        say(f"Disabled: {', '.join(asked)} (their data is kept)")
    if others:
        say(f"Also disabled (they depend on it): {', '.join(others)}")
    not_on = [n for n in wanted if n not in todo]
    if not_on:
        say(f"Not enabled: {', '.join(not_on)}")
