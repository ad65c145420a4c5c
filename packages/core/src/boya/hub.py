"""The hub: one FastAPI server with every app's Gradio UI in a tab of one Blocks.

Each app's ``build_ui()`` runs outside the hub's Blocks and is rendered into its
tab (building inside would render it twice). An app whose UI or routes fail to
build keeps a tab saying so; the others still serve.
"""

from importlib.resources import files

from . import __version__, plugins
from .apps import InstalledApp
from .auth import BasicAuth

# Largest upload the hub accepts: a 5-minute 48 kHz stereo WAV dictation is ~55 MB.
MAX_UPLOAD = "100mb"


def _home_markdown(entries: list[InstalledApp], failed: dict[str, str]) -> str:
    if not entries:
        return (
            "No apps are installed. `pip install boya-medreport` (or another app) and restart `boya serve`."
        )
    lines = ["| App | Package | Version | What it does |", "| --- | --- | --- | --- |"]
    for entry in entries:
        status = f" **(failed to load: {failed[entry.app.name]})**" if entry.app.name in failed else ""
        lines.append(
            f"| {entry.app.title} | `{entry.distribution}` | {entry.version} | {entry.app.description}{status} |"
        )
    return "\n".join(lines)


def build_hub(entries: list[InstalledApp]):
    """Return the FastAPI app serving ``/healthz``, the apps' extra routes and the Gradio hub at ``/``."""
    import gradio as gr
    from fastapi import FastAPI

    api = FastAPI(title="Boya", version=__version__)
    built, failed = {}, {}
    for entry in entries:
        try:
            built[entry.app.name] = entry.app.build_ui()
            if entry.app.routes is not None:
                entry.app.routes(api)
        except Exception as error:  # noqa: BLE001 - one broken app must not take the hub down
            failed[entry.app.name] = f"{type(error).__name__}: {error}"
            plugins.report_failure(entry.plugin, f"app {entry.app.name!r}", error)

    @api.get("/healthz")
    def healthz():
        return {
            "status": "ok",
            "version": __version__,
            "apps": {entry.app.name: "failed" if entry.app.name in failed else "ok" for entry in entries},
        }

    with gr.Blocks(title="Boya") as hub:
        gr.Markdown(f"# Boya 博雅 <small>{__version__}</small>", elem_classes="boya-title")
        with gr.Tabs():
            with gr.Tab("Home", id="home"):
                gr.Markdown("AIGC apps on one PyTorch runtime. Installed apps:")
                gr.Markdown(_home_markdown(entries, failed), elem_id="boya-apps")
            for entry in entries:
                with gr.Tab(entry.app.title, id=entry.app.name):
                    if entry.app.name in failed:
                        gr.Markdown(
                            f"**{entry.app.title} failed to load:** {failed[entry.app.name]}",
                            elem_classes="boya-failed",
                        )
                    else:
                        built[entry.app.name].render()
    css = files("boya").joinpath("assets/theme.css").read_text(encoding="utf-8")
    return gr.mount_gradio_app(
        api,
        hub,
        path="/",
        css=css,
        ssr_mode=False,
        footer_links=["api", "settings"],
        max_file_size=MAX_UPLOAD,
    )


def serve(entries: list[InstalledApp], host: str, port: int, auth: tuple[str, str] | None = None) -> None:
    import uvicorn

    app = build_hub(entries)
    if auth is not None:
        app = BasicAuth(app, *auth)
    uvicorn.run(app, host=host, port=port, log_level="info")
