"""The anchor app's hook specifications (added to boya's plugin manager by :mod:`.plugin`)."""

from boya.hookspecs import hookspec


@hookspec
def avatars(register):
    """Called when the anchor lists or loads avatars (the /avatar page, ``--avatar``, the control panel).

    Call ``register(path)`` for each avatar the plugin provides: ``path`` is a rig
    JSON file (format in ``boya_anchor/rig/README.md``); its ``name`` field is the
    avatar's name. A plugin registering a name already taken is reported and skipped.
    """
