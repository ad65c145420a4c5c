"""The one plugin manager: loads the ``boya`` entry points, then the core's own defaults.

Each entry point is loaded and registered on its own: a plugin that fails to
import, to register, or that implements a hook that does not exist is reported
by name (on stderr and in ``boya plugins``) and skipped. Hooks are called one
implementation at a time through :func:`collect` and :func:`call_each`, so a
plugin that raises inside a hook is named and skipped too, never fatal.

``BOYA_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point or distribution name.
This module must stay import-light: no torch, no gradio.
"""

import importlib
import importlib.metadata
import os
import sys
from dataclasses import dataclass, field

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "boya"
DEFAULT_PLUGINS = (
    "boya.default_plugins",
    "boya.default_plugins.loggers",
    "boya.default_plugins.core_recipes",
    "boya.default_plugins.train",
    "boya.default_plugins.bench",
    "boya.default_plugins.load_bench",
    "boya.default_plugins.inference_commands",
    "boya.default_plugins.tp_plans",
)


@dataclass
class PluginInfo:
    """What ``boya plugins`` shows for one plugin."""

    name: str
    distribution: str
    version: str
    status: str = "ok"
    error: str | None = None
    hooks: list[str] = field(default_factory=list)


pm = pluggy.PluginManager("boya")
pm.add_hookspecs(hookspecs)
_infos: dict[str, PluginInfo] = {}


def _disabled() -> set[str]:
    return {name.strip() for name in os.environ.get("BOYA_DISABLE_PLUGINS", "").split(",") if name.strip()}


def report_failure(name: str, what: str, error: BaseException | str) -> None:
    """Mark plugin ``name`` as failed and say so on stderr in one line."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    info = _infos.setdefault(name, PluginInfo(name=name, distribution=name, version="?"))
    info.status = "error"
    info.error = f"{what}: {message}"
    print(f"boya: plugin {name!r} failed ({info.error}); skipped", file=sys.stderr)


def _register(plugin, name: str, info: PluginInfo) -> None:
    _infos[name] = info
    try:
        pm.register(plugin, name=name)
    except Exception as error:  # noqa: BLE001 - any failure of a third-party plugin is reported, not fatal
        report_failure(name, "register", error)


def _load_entry_points(disabled: set[str]) -> None:
    for dist in importlib.metadata.distributions():
        for entry_point in dist.entry_points.select(group=ENTRY_POINT_GROUP):
            dist_name = dist.metadata["Name"]
            info = PluginInfo(name=entry_point.name, distribution=dist_name, version=dist.version)
            if entry_point.name in disabled or dist_name in disabled:
                info.status = "disabled"
                _infos[entry_point.name] = info
                continue
            if pm.has_plugin(entry_point.name):
                continue
            try:
                plugin = entry_point.load()
            except Exception as error:  # noqa: BLE001
                _infos[entry_point.name] = info
                report_failure(entry_point.name, "import", error)
                continue
            _register(plugin, entry_point.name, info)


def _load_defaults() -> None:
    try:
        core = importlib.metadata.distribution("boya-core")
        dist_name, dist_version = core.metadata["Name"], core.version
    except importlib.metadata.PackageNotFoundError:
        dist_name, dist_version = "boya-core", "0.0.0"
    for module_name in DEFAULT_PLUGINS:
        if not pm.has_plugin(module_name):
            module = importlib.import_module(module_name)
            _register(
                module,
                module_name,
                PluginInfo(name=module_name, distribution=dist_name, version=dist_version),
            )


def _check_pending() -> None:
    """Unregister every plugin that implements a hook no spec declares (a misspelling)."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as error:
            name = pm.get_name(error.plugin)
            pm.unregister(error.plugin)
            report_failure(name, "unknown hook", str(error).strip())


def load_plugins() -> None:
    """Load entry points and defaults once; later calls pick up plugins registered since."""
    disabled = _disabled()
    _load_entry_points(disabled)
    _load_defaults()
    _check_pending()


def _implementations(hook_name: str):
    return [impl for impl in getattr(pm.hook, hook_name).get_hookimpls() if pm.is_registered(impl.plugin)]


def call_each(hook_name: str, **kwargs) -> list:
    """Call every implementation of ``hook_name``; a plugin that raises is reported and skipped."""
    results = []
    for impl in reversed(_implementations(hook_name)):
        try:
            result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        except Exception as error:  # noqa: BLE001
            report_failure(impl.plugin_name, hook_name, error)
            continue
        if result is not None:
            results.append(result)
    return results


def collect(hook_name: str) -> list[tuple[str, tuple]]:
    """Call a ``register_*`` hook and return ``(plugin_name, registered_args)`` for each registration.

    What a plugin registered before it raised is dropped with it.
    """
    found = []
    for impl in reversed(_implementations(hook_name)):
        registered = []
        try:
            impl.function(register=lambda *args, _into=registered: _into.append(args))
        except Exception as error:  # noqa: BLE001
            report_failure(impl.plugin_name, hook_name, error)
            continue
        found.extend((impl.plugin_name, args) for args in registered)
    return found


def plugin_info(name: str) -> PluginInfo:
    return _infos[name]


def plugin_infos() -> list[PluginInfo]:
    """Every plugin seen, loaded or not, with the hooks it implements."""
    for name, info in _infos.items():
        plugin = pm.get_plugin(name)
        info.hooks = (
            sorted(caller.name for caller in pm.get_hookcallers(plugin)) if plugin is not None else []
        )
    return sorted(_infos.values(), key=lambda info: (info.distribution, info.name))


load_plugins()
