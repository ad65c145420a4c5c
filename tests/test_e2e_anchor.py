"""Virtual anchor in headless Chromium: a script played from the hub's control panel animates the /avatar page.

One page shows /avatar (what OBS would show) and records what its WebSocket receives; another
plays a script from the anchor tab. Before the script the mouth rests; while it plays, the clip
(audio + mouth track) reaches the page and the 100 Hz frames carry mouth shapes and changing
mouth parameters.
"""

import json
import shutil
import time

import pytest
from support import ARTIFACTS, open_browser_page

pytest.importorskip("boya_anchor")
pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCRIPT = "Hello everyone, welcome back to the stream! Today we open our mouths wide."


def test_played_script_animates_the_avatar_page(app_hub, request):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is missing (apt-get install espeak-ng)")
    messages: list[dict] = []
    with open_browser_page(request) as avatar:
        avatar.on(
            "websocket",
            lambda ws: ws.on("framereceived", lambda payload: messages.append(json.loads(payload))),
        )
        avatar.goto(f"{app_hub.url}/avatar")
        avatar.wait_for_function("window.anchorStats.frames > 20", timeout=60_000)
        (hello,) = [m for m in messages if m.get("type") == "hello"]
        mouth = hello["params"].index("MouthOpenY")
        # the session's hub is shared: a script `boya bench load` played (tests/test_bench_load.py) may
        # still be on the air, and every viewer sees it; measure rest once 30 frames in a row are at rest
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            recent = [m for m in messages if "p" in m][-30:]
            if len(recent) == 30 and all(m.get("s") == "X" for m in recent):
                break
            avatar.wait_for_timeout(100)
        resting = [m["p"][mouth] for m in recent]
        assert all(m.get("s") == "X" for m in recent), "the avatar never came to rest before the script"
        before = len(messages)

        panel_page = avatar.context.browser.new_page()
        panel_page.goto(app_hub.url)
        panel_page.get_by_role("tab", name="Virtual anchor").click()
        panel = panel_page.get_by_role("tabpanel").filter(has_text="Script or microphone")
        panel.get_by_label("Script").fill(SCRIPT)
        panel.get_by_role("button", name="Play script").click()
        status = panel.get_by_label("Status")
        panel_page.wait_for_function(
            "(el) => el.value.startsWith('playing')", arg=status.element_handle(), timeout=120_000
        )
        assert "mouth cues" in status.input_value()

        deadline = time.monotonic() + 30
        while not [m for m in messages[before:] if m.get("type") == "clip"] and time.monotonic() < deadline:
            avatar.wait_for_timeout(100)
        (clip,) = [m for m in messages[before:] if m.get("type") == "clip"]
        avatar.wait_for_timeout(1000 * min(clip["duration"], 4.0) + 500)
        avatar.screenshot(path=str(ARTIFACTS / "e2e-anchor.png"))
        frames = [m for m in messages[before:] if "p" in m]

    assert clip["duration"] > 1 and len(clip["track"]) >= 100 and clip["mouth_params"][0] == "MouthOpenY"
    assert len(frames) > 50  # ~100 frames a second while playing (fewer on a busy machine)
    speaking = [frame["p"][mouth] for frame in frames]
    assert {frame["s"] for frame in frames} - {"X"}, "no mouth shape other than rest (X) was sent"
    assert max(speaking) > max(resting) + 0.2, (max(resting), max(speaking))
    assert len({round(value, 2) for value in speaking}) > 10  # the mouth moves, it does not just open once
