"""Web apps that plugins register through ``register_apps`` and the hub serves."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import BoyaError

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class App:
    """One app in the hub.

    ``name`` is a short lowercase identifier: the tab id, URL segment and the
    prefix of the app's Gradio ``api_name``s. ``build_ui()`` returns an unrendered
    ``gr.Blocks`` built outside the hub; ``routes(fastapi_app)`` may add pages or
    WebSockets to the hub's server.
    """

    name: str
    title: str
    description: str
    build_ui: Callable[[], Any]
    routes: Callable[[Any], None] | None = None

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise ValueError(f"app name {self.name!r} must be lowercase letters, digits, '-' or '_'")


@dataclass(frozen=True)
class InstalledApp:
    app: App
    plugin: str
    distribution: str
    version: str


def installed_apps() -> list[InstalledApp]:
    """Every app registered by a loaded plugin, in plugin order; invalid registrations are reported."""
    from . import plugins  # here, not at the top: plugin modules import this module while plugins load

    found = []
    for plugin_name, args in plugins.collect("register_apps"):
        app = args[0] if args else None
        if len(args) != 1 or not isinstance(app, App):
            plugins.report_failure(plugin_name, "register_apps", "register() takes one boya.apps.App")
            continue
        info = plugins.plugin_info(plugin_name)
        found.append(InstalledApp(app, plugin_name, info.distribution, info.version))
    return found


def select_apps(names: tuple[str, ...] | list[str]) -> list[InstalledApp]:
    """The installed apps named (all when ``names`` is empty); an unknown name is a user error."""
    available = installed_apps()
    if not names:
        return available
    by_name = {entry.app.name: entry for entry in available}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        choices = ", ".join(sorted(by_name)) or "none installed"
        raise BoyaError(f"unknown app {', '.join(map(repr, unknown))}; installed apps: {choices}")
    return [by_name[name] for name in names]
