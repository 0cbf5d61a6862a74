"""The plugin under test; every fixture (crm_app, login_as, crm_factory…) comes from the
``crm_core.testing`` pytest plugin, installed with mosaic-crm."""

from __future__ import annotations

import pytest

from [[ package ]].manifest import manifest


@pytest.fixture
def crm_plugins() -> list:
    return [manifest]
