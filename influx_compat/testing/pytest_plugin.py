"""Placeholder pytest plugin."""
