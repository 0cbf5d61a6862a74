"""Mosaic CRM plugin leads (see manifest.py)."""
