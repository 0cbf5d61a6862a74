"""Mosaic CRM plugin pipeline (see manifest.py)."""
