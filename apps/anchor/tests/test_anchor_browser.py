"""The /avatar page in headless Chromium: it draws the rig like render.py does, and follows the stream."""

import base64
import io
import os

import numpy as np
import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian chromium"),
]


def test_page_draws_the_rig_like_the_exporter_and_streams_frames():
    from boya_anchor import server
    from boya_anchor.animate import Animator
    from boya_anchor.bench import CHROMIUM, CHROMIUM_ARGS, _serve
    from boya_anchor.render import SkiaRenderer
    from boya_anchor.rig import get_avatar
    from PIL import Image
    from playwright.sync_api import sync_playwright

    server._STAGE = None
    uvicorn_server, port = _serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 960, "height": 540})
            page.goto(f"http://127.0.0.1:{port}/avatar")
            page.wait_for_function("window.anchorStats.frames > 20", timeout=30_000)
            rig = get_avatar(server.stage().rig["name"])
            animator = Animator(rig)
            for i in range(15):
                params = animator.frame(i / 100, "D")
            params["AngleZ"], params["EyeLOpen"] = 8.0, 0.3
            # Frames are drawn into the rectangle that changed; drawn that way over the last frame, the canvas
            # must equal a full redraw.
            patched, full = page.evaluate(
                "() => { draw(false); const a = canvas.toDataURL('image/png');"
                " draw(true); return [a, canvas.toDataURL('image/png')]; }"
            )
            url = page.evaluate("(p) => window.anchorRender(p)", params)
            browser.close()
    finally:
        uvicorn_server.should_exit = True
        server._STAGE = None

    def pixels(data_url):
        return np.asarray(
            Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"), np.int16
        )

    assert (np.abs(pixels(patched) - pixels(full)).max(-1) > 8).mean() < 1e-4
    drawn = pixels(url)
    expected = SkiaRenderer(rig).draw(params)[..., :3].astype(np.int16)
    diff = np.abs(drawn - expected).max(-1)
    assert drawn.shape == expected.shape == (1080, 1920, 3)
    assert (
        diff > 40
    ).mean() < 0.002  # same drawing up to anti-aliasing along edges (the mouth alone is ~0.5%)
    assert np.abs(drawn[..., 0].astype(int) - drawn[..., 2]).mean() > 5  # not a blank canvas


def test_fake_microphone_onsets_open_the_drawn_mouth_and_stages_add_up():
    from boya_anchor import server
    from boya_anchor.bench import STAGES, browser_probe

    server._STAGE = None
    try:
        probe = browser_probe(events=4)
    finally:
        server._STAGE = None
    assert probe["onsets"] == 4 and probe["latency_ms"]["n"] == 4  # every "ah" drew an open mouth
    stages = probe["stages_ms"]
    assert set(stages) == set(STAGES) and stages["total"]["n"] == 4
    for name in STAGES:  # page and server stamps line up (same clock): no stage runs backwards
        assert stages[name]["p50"] >= -2.0, (name, stages[name])
