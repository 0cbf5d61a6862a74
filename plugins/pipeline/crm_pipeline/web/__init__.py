"""The pipeline plugin's pages and JSON API (mounted under /pipeline and /api/v1/pipeline)."""
