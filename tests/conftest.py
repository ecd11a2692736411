"""Shared fixtures: the v2 test server comes from influx_compat.testing."""

pytest_plugins = ["influx_compat.testing.pytest_plugin"]
