"""The hub in headless Chromium: the home tab lists the apps and there is one tab per installed app."""

import pytest
from support import ARTIFACTS, open_browser_page


@pytest.mark.browser
def test_home_tab_and_one_tab_per_app(hub, request):
    with open_browser_page(request) as page:
        page.goto(hub)
        page.get_by_role("tab", name="Home").wait_for(timeout=60_000)
        apps_table = page.locator("#boya-apps")
        for package in ("boya-medreport", "boya-exercises", "boya-anchor", "boya-hello"):
            assert package in apps_table.inner_text()
        tabs = [t.strip() for t in page.get_by_role("tab").all_inner_texts()]
        assert tabs[0] == "Home"
        assert {"Medical reports", "Exercises", "Virtual anchor", "Hello", "Broken UI"} <= set(tabs)
        page.get_by_role("tab", name="Hello").click()
        page.get_by_label("Name").fill("Chromium")
        page.get_by_role("button", name="Greet").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('textarea')].some(t => t.value === 'Hello, Chromium!')",
            timeout=30_000,
        )
        page.screenshot(path=str(ARTIFACTS / "hub.png"), full_page=True)
