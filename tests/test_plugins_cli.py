"""The plugin system seen from the ``boya`` CLI: installed apps, the docs' example plugin, broken plugins."""

import json
import socket
import subprocess
import sys

from support import run_boya

APPS = {"boya-core", "boya-medreport", "boya-exercises", "boya-anchor"}


def plugins_json(**kwargs) -> dict:
    result = run_boya("plugins", "--json", **kwargs)
    assert result.returncode == 0, result.stderr
    return {row["plugin"]: row for row in json.loads(result.stdout)}


def test_plugins_lists_core_and_every_app_with_versions_and_hooks():
    rows = plugins_json()
    by_dist = {row["name"]: row for row in rows.values()}
    assert APPS <= set(by_dist)
    for name in APPS - {"boya-core"}:
        assert by_dist[name]["status"] == "ok"
        assert by_dist[name]["version"][0].isdigit()
        assert {"register_apps", "register_commands"} <= set(by_dist[name]["hooks"])


def test_plugins_command_imports_neither_torch_nor_gradio():
    code = (
        "import sys\n"
        "sys.argv = ['boya', 'plugins', '--json']\n"
        "from boya import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('torch', 'gradio', 'transformers', 'sympy', 'scipy') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stderr, result.stderr


def test_example_plugin_from_the_docs_is_found_and_its_command_runs(plugin_site):
    rows = plugins_json(site=plugin_site)
    assert rows["hello"]["name"] == "boya-hello"
    assert rows["hello"]["version"] == "1.2.3"
    assert rows["hello"]["hooks"] == ["register_apps", "register_commands"]
    result = run_boya("hello", "greet", "World", site=plugin_site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Hello, World!"


def test_broken_plugins_are_named_and_skipped(plugin_site):
    result = run_boya("plugins", "--json", site=plugin_site)
    assert result.returncode == 0
    rows = {row["plugin"]: row for row in json.loads(result.stdout)}
    assert rows["broken_import"]["status"] == "error"
    assert "deliberately broken at import" in rows["broken_import"]["error"]
    assert rows["misspelled"]["status"] == "error"
    assert "register_comands" in rows["misspelled"]["error"]
    assert "plugin 'broken_import' failed" in result.stderr
    assert "plugin 'misspelled' failed" in result.stderr
    assert rows["hello"]["status"] == "ok"  # the others still load
    assert run_boya("hello", "greet", "x", site=plugin_site).returncode == 0


def test_disabled_plugins_are_listed_but_not_loaded(plugin_site):
    rows = plugins_json(site=plugin_site, BOYA_DISABLE_PLUGINS="hello,boya-broken-import")
    assert rows["hello"]["status"] == "disabled"
    assert rows["broken_import"]["status"] == "disabled"
    result = run_boya("hello", "greet", "x", site=plugin_site, BOYA_DISABLE_PLUGINS="hello")
    assert result.returncode == 2
    assert "No such command 'hello'" in result.stderr


def test_serve_unknown_app_is_one_clear_line():
    result = run_boya("serve", "nope")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: unknown app 'nope'; installed apps: anchor, exercises, medreport"
    ]


def test_serve_port_in_use_is_one_clear_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_boya("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port} (Address already in use); choose another with --port"
    ]


def test_version():
    result = run_boya("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("boya, version ")
