"""The ``boya`` command line: ``--version``, ``plugins``, ``serve`` and every command plugins add."""

import json
import socket

import click

from . import __version__, plugins
from .errors import BoyaError


class BoyaGroup(click.Group):
    """Turns a :class:`BoyaError` raised anywhere below into one line on stderr and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BoyaError as error:
            raise click.UsageError(str(error)) from None


@click.group(cls=BoyaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", package_name="boya-core", prog_name="boya")
def cli():
    """Boya (博雅): AIGC apps on one PyTorch runtime."""


@cli.command(name="plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_command(as_json):
    """List installed plugins with their versions, hooks and status."""
    rows = [
        {
            "name": info.distribution,
            "plugin": info.name,
            "version": info.version,
            "hooks": info.hooks,
            "status": info.status,
            "error": info.error,
        }
        for info in plugins.plugin_infos()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        status = (
            row["status"] if row["status"] == "ok" else f"{row['status']}: {row['error'] or ''}".rstrip(": ")
        )
        click.echo(f"{row['name']} {row['version']} [{row['plugin']}] {status}")
        if row["hooks"]:
            click.echo(f"    hooks: {', '.join(row['hooks'])}")


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise BoyaError(
                f"cannot listen on {host}:{port} ({error.strerror}); choose another with --port"
            ) from None


@cli.command()
@click.argument("apps", nargs=-1)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; 0.0.0.0 exposes the hub to the network.",
)
@click.option("--port", default=7860, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--auth",
    envvar="BOYA_AUTH",
    metavar="USER:PASSWORD",
    help="Require HTTP Basic authentication for everything but /healthz (or set BOYA_AUTH).",
)
def serve(apps, host, port, auth):
    """Start the hub web UI with every installed app, or only the APPS named."""
    from .apps import select_apps
    from .auth import parse_credentials

    credentials = parse_credentials(auth) if auth else None
    selected = select_apps(apps)
    _check_port_free(host, port)
    if host not in ("127.0.0.1", "localhost", "::1") and credentials is None:
        click.echo(
            f"Warning: serving on {host} without --auth: anyone who can reach this port can use the apps.",
            err=True,
        )
    from .hub import serve as serve_hub

    serve_hub(selected, host=host, port=port, auth=credentials)


def main():
    plugins.call_each("register_commands", cli=cli)
    cli(prog_name="boya")
