"""The hub over HTTP: health, one tab per app, a failed app shown as failed, app APIs reachable."""

import httpx
from gradio_client import Client
from support import boya_env, run_boya, start_hub


def tab_labels(url: str) -> list[str]:
    config = httpx.get(f"{url}/config", timeout=30).json()
    return [c["props"]["label"] for c in config["components"] if c.get("type") == "tabitem"]


def test_healthz_reports_every_app(hub):
    health = httpx.get(f"{hub}/healthz", timeout=10).json()
    assert health["status"] == "ok"
    assert {"medreport", "exercises", "anchor", "hello"} <= set(health["apps"])
    assert health["apps"]["brokenui"] == "failed"
    assert health["apps"]["hello"] == "ok"


def test_home_tab_then_one_tab_per_app(hub):
    labels = tab_labels(hub)
    assert labels[0] == "Home"
    assert {"Medical reports", "Exercises", "Virtual anchor", "Hello", "Broken UI"} <= set(labels)


def test_failed_app_tab_says_why(hub):
    config = httpx.get(f"{hub}/config", timeout=30).json()
    texts = [str(c["props"].get("value", "")) for c in config["components"] if c.get("type") == "markdown"]
    assert any("Broken UI failed to load" in t and "deliberately broken UI" in t for t in texts)


def test_an_app_api_is_reachable_through_the_hub(hub):
    client = Client(hub, verbose=False)
    assert client.predict("Ada", api_name="/hello_greet") == "Hello, Ada!"


def test_auth_protects_everything_but_healthz():
    process, url = start_hub("exercises", env=boya_env(BOYA_AUTH="ada:s3cret"))
    try:
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"{url}/", timeout=10).status_code == 401
        assert httpx.get(f"{url}/config", auth=("ada", "wrong"), timeout=10).status_code == 401
        assert httpx.get(f"{url}/config", auth=("ada", "s3cret"), timeout=30).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_malformed_auth_is_one_clear_line():
    result = run_boya("serve", "--auth", "no-colon")
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: --auth / BOYA_AUTH must look like user:password"
