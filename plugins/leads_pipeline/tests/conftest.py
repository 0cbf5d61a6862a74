"""Fixtures of the leads_pipeline glue's tests: leads, pipeline and the glue enabled, a rep."""

from __future__ import annotations

import pytest
from crm_leads.manifest import manifest as leads
from crm_leads_pipeline.manifest import manifest as glue
from crm_pipeline.manifest import manifest as pipeline

from crm_core.plugin_system.manifest import Manifest


@pytest.fixture
def crm_plugins() -> list[Manifest]:
    return [leads, pipeline, glue]
