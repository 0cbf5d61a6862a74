"""The loyalty plugin with the plugin it depends on (pipeline); fixtures from crm_core.testing."""

from __future__ import annotations

import pytest
from crm_loyalty.manifest import manifest as loyalty
from crm_pipeline.manifest import manifest as pipeline


@pytest.fixture
def crm_plugins() -> list:
    return [pipeline, loyalty]


@pytest.fixture
def crm_enabled() -> list[str]:
    return ["loyalty"]  # takes pipeline along
