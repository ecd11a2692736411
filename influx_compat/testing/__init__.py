"""Placeholder: the v2 test server (owned by the testing work)."""
