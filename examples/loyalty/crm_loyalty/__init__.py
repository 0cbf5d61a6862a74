"""Loyalty points for won opportunities: an example plugin."""
