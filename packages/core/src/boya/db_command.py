"""The ``db current|upgrade`` command group every app with a database mounts under its own CLI.

Opening an app's store applies its migrations already; the explicit commands are for the
operator of a production database, who wants to upgrade on purpose and see the revision.
"""

import importlib
import json
from collections.abc import Callable

import click


def db_group(app: str, store: str, module: str, open_store: Callable[[str | None], str]):
    """A click group ``db`` for ``app`` whose ``store`` (e.g. "archive") is defined in ``module``.

    ``module`` (imported only when a command runs, to keep the CLI light) names the store's
    ``MIGRATIONS`` package and ``VERSION_TABLE``; ``open_store(url)`` opens the store, which
    upgrades it, and returns its revision.
    """
    db_option = click.option(
        "--db",
        "db_url",
        default=None,
        help="Database URL (default: $BOYA_DATABASE_URL, else the app's SQLite file).",
    )
    json_option = click.option("--json", "as_json", is_flag=True)

    def echo(current, head, as_json) -> None:
        if as_json:
            click.echo(json.dumps({"app": app, "current": current, "head": head}))
        else:
            click.echo(f"{app} {store} at revision {current or 'none (not created yet)'}; newest {head}")

    @click.group(name="db")
    def group():
        pass

    group.help = f"The {store}'s schema: which migration it is at, and applying the new ones (opening it applies them too)."

    @group.command(name="current")
    @db_option
    @json_option
    def current(db_url, as_json):
        """Show the revision and the newest this release ships, changing nothing."""
        from . import storage

        definitions = importlib.import_module(module)
        engine = storage.create_engine(storage.database_url(app, db_url))
        echo(**storage.revision(engine, definitions.MIGRATIONS, definitions.VERSION_TABLE), as_json=as_json)

    @group.command(name="upgrade")
    @db_option
    @json_option
    def upgrade(db_url, as_json):
        """Apply the migrations this release ships (a database made before migrations is adopted, its rows kept)."""
        revision = open_store(db_url)
        echo(revision, revision, as_json)

    return group
