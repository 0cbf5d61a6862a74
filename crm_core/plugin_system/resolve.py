"""Pure dependency logic over manifests: order, closure, dependents, problems."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from crm_core.plugin_system.manifest import Manifest


def find_problems(
    manifests: Mapping[str, Manifest], core_version: str, broken: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map plugin name → why it can't run (missing dependency, cycle, incompatible core).

    ``broken`` are plugins whose manifest could not even be read. A plugin that depends on a
    plugin with a problem has a problem too.
    """
    problems: dict[str, str] = dict(broken or {})
    for m in manifests.values():
        if not m.compatible_with(core_version):
            problems[m.name] = (
                f"plugin {m.name} requires core {m.requires_core}, but this is core {core_version}"
            )
        missing = [d for d in m.depends if d not in manifests and d not in problems]
        if missing:
            problems[m.name] = f"plugin {m.name} depends on {', '.join(missing)}, which is not installed"
    for cycle in find_cycles(manifests):
        path = " → ".join([*cycle, cycle[0]])
        for name in cycle:
            problems.setdefault(name, f"plugin dependency cycle: {path}")
    changed = True
    while changed:
        changed = False
        for m in manifests.values():
            if m.name in problems:
                continue
            bad = [d for d in m.depends if d in problems]
            if bad:
                problems[m.name] = (
                    f"plugin {m.name} depends on {bad[0]}, which cannot run: {problems[bad[0]]}"
                )
                changed = True
    return problems


def find_cycles(manifests: Mapping[str, Manifest]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(manifests[name].depends):
            if dep not in manifests:
                continue
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep) :])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[name] = 2

    for name in sorted(manifests):
        if name not in state:
            visit(name)
    return cycles


def load_order(manifests: Mapping[str, Manifest]) -> list[str]:
    """Dependencies first, ties broken alphabetically (Kahn's algorithm with a heap)."""
    indegree = {n: sum(1 for d in m.depends if d in manifests) for n, m in manifests.items()}
    dependents: dict[str, list[str]] = {n: [] for n in manifests}
    for n, m in manifests.items():
        for d in m.depends:
            if d in manifests:
                dependents[d].append(n)
    ready = [n for n, k in indegree.items() if k == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        n = heapq.heappop(ready)
        order.append(n)
        for dep in dependents[n]:
            indegree[dep] -= 1
            if indegree[dep] == 0:
                heapq.heappush(ready, dep)
    return order


def dependency_closure(manifests: Mapping[str, Manifest], names: Iterable[str]) -> set[str]:
    out: set[str] = set()
    todo = list(names)
    while todo:
        n = todo.pop()
        if n in out:
            continue
        out.add(n)
        todo.extend(manifests[n].depends if n in manifests else ())
    return out


def dependents_closure(manifests: Mapping[str, Manifest], names: Iterable[str]) -> set[str]:
    """Every plugin that (transitively) depends on one of ``names``, excluding ``names``."""
    start = set(names)
    out: set[str] = set()
    changed = True
    while changed:
        changed = False
        for m in manifests.values():
            if m.name in out or m.name in start:
                continue
            if any(d in start or d in out for d in m.depends):
                out.add(m.name)
                changed = True
    return out
