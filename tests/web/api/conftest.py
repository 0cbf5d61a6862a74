"""Fixtures of the API tests: bearer headers for the web test kernel's users."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from api_support import bearer

from crm_core.kernel import Kernel


@pytest.fixture
def auth(web_kernel: Kernel) -> Callable[[str], dict[str, str]]:
    """``auth("admin")`` → ``{"Authorization": "Bearer …"}`` for one of the test users."""
    return lambda login: bearer(web_kernel, login)
