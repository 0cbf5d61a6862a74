"""The manifest: plain data, read without importing the plugin's models."""

from __future__ import annotations

from crm_core.plugin_system import Manifest

manifest = Manifest(
    name="[[ name ]]",
    version="0.1.0",
    summary="[[ title ]]: items attached to customers",
    summary_i18n={"zh_CN": "[[ title ]]：挂在客户上的事项"},
    label={"zh_CN": "[[ title ]]", "en": "[[ title ]]"},
    category="other",
    depends=(),
    requires_core="[[ requires_core ]]",
    stages=("startup", "growth", "mature"),
    hooks="[[ package ]].plugin",
    migrations="[[ package ]].migrations",
)
