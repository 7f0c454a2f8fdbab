"""Typed, frozen settings read once from the environment; the only place configuration lives."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
