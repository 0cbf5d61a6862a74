"""Mosaic CRM plugin tasks_leads (see manifest.py)."""
