"""Plugin discovery, dependency resolution, enabled state and the typed hook facade."""

from crm_core.plugin_system.manifest import STAGES, Manifest

__all__ = ["STAGES", "Manifest"]
