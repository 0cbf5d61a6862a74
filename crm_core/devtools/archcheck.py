"""Architecture contracts that import-linter can't express for a growing set of plugins.

* The kernel (``crm_core``) never imports a plugin.
* A plugin imports only the standard library, third-party distributions, ``crm_core`` and the
  plugins named in its manifest's ``depends``.

Plugins are found as packages with a ``manifest.py`` under the given roots (``plugins/`` in this
repository). ``python -m crm_core.devtools.archcheck`` prints violations and exits 1.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PluginPackage:
    name: str  # plugin name from the manifest
    package: str  # importable top-level package
    path: Path
    depends: tuple[str, ...]


def _literal_kw(call: ast.Call, key: str) -> object:
    for kw in call.keywords:
        if kw.arg == key:
            try:
                return ast.literal_eval(kw.value)
            except ValueError:
                return None
    return None


def find_plugins(roots: list[Path]) -> list[PluginPackage]:
    """Read manifests as text (never importing them) to learn names and dependencies."""
    found = []
    for root in roots:
        for manifest in sorted(root.glob("*/manifest.py")) + sorted(root.glob("*/*/manifest.py")):
            tree = ast.parse(manifest.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Manifest":
                    name = _literal_kw(node, "name")
                    depends = _literal_kw(node, "depends") or ()
                    if isinstance(name, str):
                        found.append(PluginPackage(name, manifest.parent.name, manifest.parent,
                                                   tuple(depends)))  # type: ignore[arg-type]
    return found


def imported_tops(path: Path) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for py in sorted(path.rglob("*.py")):
        try:
            tree = ast.parse(py.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out.extend((a.name.split(".")[0], node.lineno) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.append((node.module.split(".")[0], node.lineno))
    return out


def check(kernel_dir: Path, plugin_roots: list[Path]) -> list[str]:
    plugins = find_plugins(plugin_roots)
    by_package = {p.package: p for p in plugins}
    by_name = {p.name: p for p in plugins}
    problems: list[str] = []
    for top, line in imported_tops(kernel_dir):
        if top in by_package:
            problems.append(f"{kernel_dir.name}:{line}: the kernel imports plugin {by_package[top].name}")
    for p in plugins:
        allowed = {p.package, "crm_core"} | {by_name[d].package for d in p.depends if d in by_name}
        for top, line in imported_tops(p.path):
            if top in by_package and top not in allowed:
                problems.append(
                    f"plugin {p.name} (line {line}) imports plugin {by_package[top].name}, "
                    f"which is not in its depends {list(p.depends)}"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    kernel_dir = Path(args[0]) if args else Path("crm_core")
    roots = [Path(a) for a in args[1:]] or [Path("plugins")]
    problems = check(kernel_dir, roots)
    for line in problems:
        print(line)
    if not problems:
        n = len(find_plugins(roots))
        print(f"architecture contracts kept (kernel + {n} plugin package(s))")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())


