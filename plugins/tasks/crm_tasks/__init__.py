"""Mosaic CRM plugin tasks (see manifest.py)."""
