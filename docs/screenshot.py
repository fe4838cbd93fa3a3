"""Take docs/screenshot.png: the chat window with an answer and an opened citation.

Start the app first (``assistant serve``), then run
``.venv/bin/python docs/screenshot.py [URL]`` (default http://127.0.0.1:7860). Needs Chromium.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:7860"
OUT = Path(__file__).with_name("screenshot.png")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    page.goto(URL)
    page.wait_for_selector("#question textarea")
    if page.locator("#chat a.cite-marker").count():
        page.click("#new-conversation")
    page.fill("#question textarea", "What did Peskov say about sanctions?")
    page.click("#ask")
    marker = page.locator("#chat a.cite-marker[title*='mantra']")
    marker.wait_for(timeout=60_000)
    marker.click()
    page.wait_for_timeout(600)
    page.locator("#chat details.cite[open]").scroll_into_view_if_needed()
    page.screenshot(path=str(OUT), clip={"x": 0, "y": 0, "width": 1200, "height": 860})
    browser.close()
print(f"wrote {OUT}")
