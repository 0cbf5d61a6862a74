"""The tasks plugin's hook implementations."""

from __future__ import annotations
