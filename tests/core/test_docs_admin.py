"""The administrator guide's grants table is the catalogue, so the guide cannot drift."""

from __future__ import annotations

from pathlib import Path

from crm_core.permissions.catalog import BUILTIN_ROLES, KERNEL_ACTIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "admin.md"


def test_grants_table_matches_catalog() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- grants-table:start -->")[1].split("<!-- grants-table:end -->")[0]
    rows = [r for r in table.strip().splitlines()[2:]]
    roles = list(BUILTIN_ROLES)
    assert len(rows) == len(KERNEL_ACTIONS)
    for row, action in zip(rows, KERNEL_ACTIONS, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0].startswith(f"`{action.name}`")
        for role, cell in zip(roles, cells[1:], strict=True):
            want = action.defaults.get(role)
            assert cell == ("—" if want is None else "✓" if want is True else want), (action.name, role)
