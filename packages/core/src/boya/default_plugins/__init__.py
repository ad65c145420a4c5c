"""The core's own defaults, written as plugins of its own hooks (listed in ``boya.plugins.DEFAULT_PLUGINS``)."""
