"""End-to-end tests of the web chat (server/static) in headless Chromium.

The real server (``server.app.create_app``) serves a bot written to tmp_path; Playwright
drives Debian's Chromium (tests/browser_support.py). The tests type and click as a person
would and wait explicitly for what the page must show: replies, suggestion buttons, the
conversation after a reload and after a server restart. One test replaces the WebSocket
with a scripted one (Playwright's ``route_web_socket``) to check streamed answers, the
frames the page sends, and reconnecting with the same session. The Markdown renderer
(server/static/markdown.js) is checked in the browser too, above all that it escapes HTML.

Screenshots go to $BOTBASIC_SCREENSHOTS (default /tmp/botbasic-screenshots).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from browser_support import LiveServer, browser, context, screenshot_dir  # noqa: F401 (fixtures)

from botbasic.server.app import create_app
from botbasic.server.config import ServerSettings

REPO = Path(__file__).resolve().parent.parent
STATIC = REPO / "server" / "static"
BOT = "shop"

START = """\
TALK "**Welcome** to the *shop*. Docs: https://example.com/docs"
ADD SUGGESTION "Ann"
ADD SUGGESTION "Bob"
HEAR name AS NAME WITH "What is your name?"
CLEAR SUGGESTIONS
TALK "Hello, ${name}! Tags stay text: <img src=x onerror=window.pwned=1> <b>no bold</b>"
done = FALSE
DO WHILE NOT done
    HEAR choice AS "Prices", "Hours", "Bye" WITH "What next, ${name}?"
    SELECT CASE choice
        CASE "Prices"
            BEGIN TALK
Prices for ${name}:
- tea: `2.50`
- cake: **4**
END TALK
        CASE "Hours"
            TALK "Open 9-17, ${name}."
        CASE ELSE
            done = TRUE
    END SELECT
LOOP
TALK "Bye, ${name}!"
"""


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture
def server(tmp_path):
    """The real chat server with one bot, on a free loopback port."""
    dialog = tmp_path / "bots" / f"{BOT}.gbai" / f"{BOT}.gbdialog"
    dialog.mkdir(parents=True)
    (dialog / "start.bas").write_text(START, encoding="utf-8")
    settings = ServerSettings(bots_dir=tmp_path / "bots", data_dir=tmp_path / "data",
                              host="127.0.0.1", port=0, watch=False)
    live = LiveServer(lambda: create_app(settings))
    live.start()
    try:
        yield live
    finally:
        live.stop()


def bot_bubbles(page):
    return page.locator("#messages .msg.bot .bubble")


def user_bubbles(page):
    return page.locator("#messages .msg.user .bubble")


def suggestion(page, text: str):
    return page.locator("#suggestions").get_by_role("button", name=text, exact=True)


def send(page, text: str) -> None:
    box = page.get_by_label("Message")
    box.fill(text)
    box.press("Enter")


# ---------------------------------------------------------------- the real server


def test_chat_with_suggestions_reload_and_server_restart(server, context):
    page = context.new_page()
    page.goto(f"{server.url}/bots/{BOT}")
    status = page.locator("#connection-status")
    expect(page.get_by_role("heading", level=1)).to_have_text(BOT)
    expect(status).to_have_attribute("data-state", "online")
    expect(page.get_by_role("log", name="Conversation")).to_be_attached()

    # A typed message starts the dialog (start.bas); its Markdown is rendered.
    send(page, "hello")
    expect(user_bubbles(page)).to_have_text(["hello"])
    expect(bot_bubbles(page)).to_have_count(2)
    expect(bot_bubbles(page).nth(1)).to_have_text("What is your name?")
    first = bot_bubbles(page).first
    expect(first.locator("strong")).to_have_text("Welcome")
    expect(first.locator("em")).to_have_text("shop")
    expect(first.get_by_role("link", name="https://example.com/docs")).to_have_attribute(
        "href", "https://example.com/docs")
    expect(page.locator("#suggestions button")).to_have_text(["Ann", "Bob"])

    # A suggestion button sends its text; HTML in a bot message stays text.
    suggestion(page, "Ann").click()
    expect(user_bubbles(page)).to_have_text(["hello", "Ann"])
    expect(bot_bubbles(page)).to_have_count(4)
    hello = bot_bubbles(page).nth(2)
    expect(hello).to_have_text(
        "Hello, Ann! Tags stay text: <img src=x onerror=window.pwned=1> <b>no bold</b>")
    assert hello.locator("img, b").count() == 0
    assert page.evaluate("window.pwned === undefined")
    expect(bot_bubbles(page).nth(3)).to_have_text("What next, Ann?")
    expect(page.locator("#suggestions button")).to_have_text(["Prices", "Hours", "Bye"])
    session_id = page.evaluate(f"localStorage.getItem('botbasic:session:{BOT}')")
    assert session_id and re.fullmatch(r"[0-9a-f]{32}", session_id)
    page.screenshot(path=str(screenshot_dir() / "chat-desktop.png"), animations="disabled")

    # A reload shows the same conversation and buttons, and goes on with it.
    page.reload()
    expect(status).to_have_attribute("data-state", "online")
    expect(user_bubbles(page)).to_have_text(["hello", "Ann"])
    expect(bot_bubbles(page)).to_have_count(4)
    expect(page.locator("#suggestions button")).to_have_text(["Prices", "Hours", "Bye"])
    assert page.evaluate(f"localStorage.getItem('botbasic:session:{BOT}')") == session_id
    suggestion(page, "Prices").click()
    expect(bot_bubbles(page)).to_have_count(6)
    prices = bot_bubbles(page).nth(4)
    expect(prices.locator("p")).to_have_text("Prices for Ann:")
    expect(prices.locator("li")).to_have_text(["tea: 2.50", "cake: 4"])
    expect(prices.locator("li code")).to_have_text("2.50")
    expect(prices.locator("li strong")).to_have_text("4")

    # The server goes away: the page says so, reconnects by itself to the new process
    # (same data folder) and the conversation goes on in the same session.
    server.stop()
    expect(status).to_have_attribute("data-state", re.compile("reconnecting|connecting"))
    server.start()
    expect(status).to_have_attribute("data-state", "online")
    send(page, "Hours")
    expect(bot_bubbles(page)).to_have_count(8)
    expect(bot_bubbles(page).nth(6)).to_have_text("Open 9-17, Ann.")
    assert page.evaluate(f"localStorage.getItem('botbasic:session:{BOT}')") == session_id

    # "New chat" starts another session from the beginning.
    page.get_by_role("button", name="New chat").click()
    expect(page.locator("#messages .msg")).to_have_count(0)
    expect(status).to_have_attribute("data-state", "online")
    send(page, "hi again")
    expect(bot_bubbles(page).nth(1)).to_have_text("What is your name?")
    assert page.evaluate(f"localStorage.getItem('botbasic:session:{BOT}')") != session_id


def test_phone_layout(server, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 760}, is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    try:
        page = ctx.new_page()
        page.goto(f"{server.url}/bots/{BOT}")
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "online")
        send(page, "hello")
        expect(page.locator("#suggestions button")).to_have_text(["Ann", "Bob"])
        # Nothing is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = page.locator("#composer").bounding_box()
        assert box["y"] + box["height"] <= 760 + 1
        page.screenshot(path=str(screenshot_dir() / "chat-phone.png"), animations="disabled")
    finally:
        ctx.close()


def test_bot_picker_lists_bots_and_opens_a_chat(server, context):
    page = context.new_page()
    page.goto(f"{server.url}/")
    card = page.get_by_role("link", name=re.compile(BOT))
    expect(card).to_contain_text("Ready")
    card.click()
    expect(page).to_have_url(f"{server.url}/bots/{BOT}")
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "online")


# ---------------------------------------------------------------- a scripted WebSocket


def envelope(content: str, complete: bool = True, token=None, suggestions=(), reply_to=None):
    return json.dumps({"bot_id": BOT, "session_id": "s-1", "content": content,
                       "message_type": 2, "is_complete": complete, "stream_token": token,
                       "suggestions": list(suggestions), "reply_to": reply_to})


def test_streaming_frames_and_reconnect_with_a_scripted_socket(server, context):
    """The page's side of the protocol, against a WebSocket scripted in the test."""
    connections: list[str] = []
    frames: list[dict] = []
    sockets = []

    def on_socket(ws):
        connections.append(ws.url)
        sockets.append(ws)
        ws.send(json.dumps({"type": "connected", "session_id": "s-1"}))

        def on_message(raw):
            frame = json.loads(raw)
            frames.append(frame)
            reply_to = frame["message_id"]
            if frame["content"] == "stream":
                ws.send(envelope("Hello ", False, "t1"))
                ws.send(envelope("**world**", False, "t1"))
                ws.send(envelope("", True, "t1", [
                    {"text": "Orders", "context": "orders",
                     "action": {"type": "select_context", "context": "orders"}},
                    {"text": "One item", "context": None,
                     "action": {"type": "send_message", "value": "1"}},
                    {"text": "Run report", "context": None,
                     "action": {"type": "invoke_tool", "tool": "report"}}], reply_to))
            else:
                ws.send(envelope(f"got {frame['content']}", reply_to=reply_to))

        ws.on_message(on_message)

    page = context.new_page()
    page.route_web_socket(re.compile(r".*/ws/.*"), on_socket)
    page.goto(f"{server.url}/bots/{BOT}")
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "online")
    assert connections == [f"ws://127.0.0.1:{server.port}/ws/{BOT}"]

    # Streamed parts go into one bubble; the final envelope closes it.
    send(page, "stream")
    expect(bot_bubbles(page)).to_have_count(1)
    expect(bot_bubbles(page).first).to_have_text("Hello world")
    expect(bot_bubbles(page).first.locator("strong")).to_have_text("world")
    expect(bot_bubbles(page).first).not_to_have_attribute("aria-busy", "true")
    assert frames[0]["content"] == "stream" and frames[0]["message_type"] == 1
    assert "context_name" not in frames[0]

    # The three kinds of suggestion.
    suggestion(page, "Orders").click()
    expect(bot_bubbles(page).last).to_have_text("got Orders")
    assert frames[-1]["context_name"] == "orders"
    # (the scripted server always answers with the same buttons only after "stream")
    send(page, "stream")
    suggestion(page, "One item").click()
    expect(bot_bubbles(page).last).to_have_text("got 1")
    send(page, "stream")
    suggestion(page, "Run report").click()
    expect(bot_bubbles(page).last).to_have_text("got report")
    assert frames[-1]["message_type"] == 6
    expect(user_bubbles(page).last).to_have_text("Run report")
    assert len({f["message_id"] for f in frames}) == len(frames)

    # The server closes the connection: the page comes back on the same session.
    sockets[-1].close()
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "online")
    assert len(connections) == 2
    assert connections[1].endswith(f"/ws/{BOT}?session_id=s-1")
    send(page, "after")
    expect(bot_bubbles(page).last).to_have_text("got after")


# ---------------------------------------------------------------- markdown.js

MARKDOWN_CASES = [
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ("a & b \"c\" 'd'", "<p>a &amp; b &quot;c&quot; &#39;d&#39;</p>"),
    ("**bold** *it* _it2_ snake_case_name",
     "<p><strong>bold</strong> <em>it</em> <em>it2</em> snake_case_name</p>"),
    ("***both*** and **a *b* c**",
     "<p><strong><em>both</em></strong> and <strong>a <em>b</em> c</strong></p>"),
    ("`<b>x</b>` and `**no**`", "<p><code>&lt;b&gt;x&lt;/b&gt;</code> and <code>**no**</code></p>"),
    ("```python\nif a < b:\n    **x**\n```", "<pre><code class=\"language-python\">"
     "if a &lt; b:\n    **x**</code></pre>"),
    ("# One\n## Two\n### Three\n#### Four", "<h3>One</h3>\n<h4>Two</h4>\n<h5>Three</h5>\n"
     "<p>#### Four</p>"),
    ("- a\n- b\n\n3. c\n4. d", "<ul><li>a</li><li>b</li></ul>\n<ol start=\"3\"><li>c</li>"
     "<li>d</li></ol>"),
    ("line 1\nline 2\n\npara 2", "<p>line 1<br>\nline 2</p>\n<p>para 2</p>"),
    ("[docs](https://example.com/a_b?x=1&y=2)",
     '<p><a href="https://example.com/a_b?x=1&amp;y=2" target="_blank" '
     'rel="noopener noreferrer">docs</a></p>'),
    ("[mail](mailto:ann@example.com)",
     '<p><a href="mailto:ann@example.com" target="_blank" rel="noopener noreferrer">mail</a></p>'),
    ("[x](javascript:alert(1)) [y](data:text/html,hi)",
     "<p>[x](javascript:alert(1)) [y](data:text/html,hi)</p>"),
    ("see https://example.com/x_(y). ok",
     '<p>see <a href="https://example.com/x_(y)" target="_blank" rel="noopener noreferrer">'
     "https://example.com/x_(y)</a>. ok</p>"),
    ('https://a.example/"onmouseover=alert(1)',
     '<p><a href="https://a.example/" target="_blank" rel="noopener noreferrer">'
     "https://a.example/</a>&quot;onmouseover=alert(1)</p>"),
    ("[<img src=x onerror=alert(1)>](https://x.example)",
     '<p><a href="https://x.example" target="_blank" rel="noopener noreferrer">'
     "&lt;img src=x onerror=alert(1)&gt;</a></p>"),
]


def test_markdown_renderer_escapes_html_and_renders_its_subset(context):
    page = context.new_page()
    page.set_content("<!doctype html><html><body><div id=out></div></body></html>")
    page.add_script_tag(path=str(STATIC / "markdown.js"))
    rendered = page.evaluate("cases => cases.map(c => BotMarkdown.render(c))",
                             [source for source, _ in MARKDOWN_CASES])
    for (source, expected), html in zip(MARKDOWN_CASES, rendered):
        assert html == expected, source

    # Put into the DOM, hostile input creates no element and runs nothing.
    page.evaluate("""() => {
        window.hits = 0;
        const evil = '<script>window.hits++</script><img src=x onerror="window.hits++">' +
                     '<svg onload="window.hits++"></svg><a href="javascript:window.hits++">a</a>';
        document.getElementById('out').innerHTML = BotMarkdown.render(evil);
    }""")
    out = page.locator("#out")
    expect(out.locator("p")).to_have_count(1)
    assert out.locator("script, img, svg, a").count() == 0
    assert page.evaluate("window.hits") == 0
    expect(out).to_contain_text("<script>window.hits++</script>")
