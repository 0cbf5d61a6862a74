"""Alembic revisions of the pipeline plugin (branch ``pipeline``)."""
