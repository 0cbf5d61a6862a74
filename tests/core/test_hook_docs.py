"""The hook contract stays documented and tested: a new hook without both fails here."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crm_core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugin-hooks.md"
TESTS = ROOT / "tests"


def specs() -> dict[str, Callable[..., Any]]:
    marker = f"{hookspecs.PROJECT}_spec"
    found = {name: f for name, f in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(f, marker)}
    assert len(found) >= 17, "hook specs not found: did the marker change?"
    return found


def signature(func: Callable[..., Any]) -> str:
    """``def name(param: Type, ...) -> Ret`` with the annotations as written in hookspecs.py
    (strings, because of ``from __future__ import annotations``)."""
    sig = inspect.signature(func)
    params = []
    for p in sig.parameters.values():
        assert isinstance(p.annotation, str), f"{func.__name__}({p.name}) is not annotated"
        params.append(f"{p.name}: {p.annotation}")
    assert isinstance(sig.return_annotation, str), f"{func.__name__} has no return annotation"
    return f"def {func.__name__}({', '.join(params)}) -> {sig.return_annotation}"


def doc_signatures() -> dict[str, list[str]]:
    """Hook name → the ``def`` lines of the python code blocks of its ``### name`` section."""
    out: dict[str, list[str]] = {}
    for section in re.split(r"^### ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]:
        name = section.split("\n", 1)[0].strip()
        blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
        out[name] = [line for b in blocks for line in b.splitlines()
                     if line.startswith(f"def {name}(")]
    return out


def test_every_hook_is_documented_with_its_exact_signature() -> None:
    documented = doc_signatures()
    problems = []
    for name, func in sorted(specs().items()):
        expected = signature(func)
        if name not in documented:
            problems.append(f"{name}: no '### {name}' section in {DOC.name}")
        elif documented[name][:1] != [expected]:
            problems.append(f"{name}: the section's first python block must start with\n    "
                            f"{expected}\n  found {documented[name][:1]}")
    stale = sorted(set(documented) - set(specs()))
    problems += [f"{name}: documented, but not a hook in crm_core/hookspecs.py" for name in stale]
    assert problems == [], "\n".join(problems)


def test_every_hook_section_says_when_it_was_added() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in specs():
        section = text.split(f"### {name}\n", 1)[1].split("\n### ", 1)[0]
        assert re.search(r"Added in \d+\.\d+", section), f"{name}: no 'Added in' in its section"


def test_every_hook_has_a_test() -> None:
    names: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names |= {node.name for node in ast.walk(tree)
                  if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    missing = sorted(n for n in specs() if f"test_hook_{n}" not in names)
    assert missing == [], (
        "hooks without a test_hook_<name> test (add tests/core/hooks/test_hook_<name>.py): "
        + ", ".join(missing)
    )
