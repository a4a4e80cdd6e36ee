"""The browser path's parts (crawler/browser): which pages go to the browser, the context rotation that
bounds its memory, the reading of several DOM states as one, and the pager that clicks through a
single-page app's list."""

from __future__ import annotations

import asyncio

import pytest

from archive.discover import LIST as LIST_LINK
from archive.discover import RECORD as RECORD_LINK
from archive.discover import Discovery, Link
from archive.page import DETAIL, LIST, OTHER, SHELL, PageReading
from crawler.browser.choice import BrowserChoice, is_shell
from crawler.browser.handler import ContextRotation
from crawler.middlewares.page_reader import combined


def choice(mode: str, executable: str = "/bin/sh") -> BrowserChoice:
    return BrowserChoice.from_settings({"GOVARCHIVE_BROWSER": mode, "GOVARCHIVE_BROWSER_EXECUTABLE": executable})


def test_modes_and_what_each_sends_to_the_browser():
    page, post = Link("http://gov.test/a.html", RECORD_LINK), Link("http://gov.test/s.jsp", LIST_LINK, "POST", b"p=2")
    always = choice("always")
    assert always.renders_first(page, endpoint=False) and not always.renders_first(page, endpoint=True)
    assert not always.renders_first(post, endpoint=False)  # an endpoint's POST stays plain HTTP
    assert not choice("auto").renders_first(page, endpoint=False) and choice("auto").renders_shells()
    assert not choice("never").renders_shells()
    assert choice("auto", "/nonexistent/chromium").executable is None  # auto records failures instead
    with pytest.raises(ValueError, match="install Debian's chromium package"):
        choice("always", "/nonexistent/chromium")
    with pytest.raises(ValueError, match="auto, always, never"):
        choice("sometimes")


def test_a_shell_is_an_other_or_an_empty_list_noted_as_one():
    assert is_shell(PageReading(OTHER, (SHELL,)))
    assert not is_shell(PageReading(OTHER, ()))
    assert is_shell(PageReading(LIST, links=Discovery(handlers=[SHELL])))
    assert not is_shell(PageReading(LIST, links=Discovery(handlers=["list-items"])))


def test_contexts_rotate_and_close_with_their_last_page():
    rotation = ContextRotation(2)
    first, second, third = rotation.take(), rotation.take(), rotation.take()
    assert first == second != third
    assert rotation.give_back(first) is False  # its other page is still open
    assert rotation.give_back(second) is True  # used up and idle: close it
    assert rotation.give_back(third) is False  # the current context, one page left in its quota
    fourth = rotation.take()
    assert fourth == third and rotation.give_back(fourth) is True


def test_states_read_as_one_list_in_order_each_record_once():
    def state(*paths: str) -> PageReading:
        return PageReading(LIST, ("list-items",), links=Discovery(
            [Link(f"http://gov.test{p}", RECORD_LINK) for p in paths], handlers=["list-items"], column="通知"))

    merged = combined([state("/1.html", "/2.html"), PageReading(OTHER), state("/2.html", "/3.html")])
    assert merged.kind == LIST and merged.links.column == "通知" and merged.links.handlers == ["list-items"]
    assert [link.url.rsplit("/", 1)[1] for link in merged.links.records] == ["1.html", "2.html", "3.html"]
    detail = PageReading(DETAIL, ("article markers",))
    assert combined([detail]) is detail


# --- the pager, in chromium ---------------------------------------------------------------------------

def app(pager: str, pages: int = 3) -> str:
    """A list of `pages` pages drawn by script; `pager` is the markup of its controls ({p}: current page)."""
    return f"""<html><body><ul id="list"></ul><div id="pager"></div><script>
    var p = 1;
    function show(n) {{ p = n; document.getElementById('list').innerHTML = '<li>第' + n + '页</li>';
      document.getElementById('pager').innerHTML = `{pager}`.replace(/\\{{p\\}}/g, n)
        .replace('DISABLED', n >= {pages} ? 'disabled' : ''); }}
    show(1);
    </script></body></html>"""


PAGERS = {
    # numbered buttons only, no 下一页
    "numbers": app('<button onclick="show(1)">1</button><button onclick="show(2)">2</button>'
                   '<button onclick="show(3)">3</button>'),
    # a 下一页 link that runs script, disabled on the last page
    "next-link": app('<span class="DISABLED"><a href="javascript:;" onclick="if(p<3)show(p+1)">下一页</a></span>'),
    # a 下一页 that is a real link: the crawler follows those, the browser must not click away
    "real-link": app('<a href="/list_2.html">下一页</a>'),
    # a pager without end, bounded by max_clicks
    "endless": app('<button onclick="show(p+1)">下一页</button>', pages=10**6),
    # a control that changes nothing
    "inert": app('<button onclick="">下一页</button>'),
}


@pytest.fixture(scope="module")
def pager_states(chromium) -> dict[str, list[str]]:
    from playwright.async_api import async_playwright

    from crawler.browser.pager import render
    from crawler.browser.traffic import PageTraffic

    async def run() -> dict[str, list[str]]:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium)
            found = {}
            for name, html in PAGERS.items():
                page = await browser.new_page()
                await page.set_content(html)
                found[name] = await render(page, PageTraffic(lambda exchange: None), quiet=0.05, timeout=5,
                                           max_clicks=3)
                await page.close()
            await browser.close()
            return found

    return asyncio.run(run())


def shown(states: list[str]) -> list[str]:
    return [state.split("<li>", 1)[1].split("</li>", 1)[0] for state in states]


def test_numbered_buttons_are_clicked_in_order(pager_states):
    assert shown(pager_states["numbers"]) == ["第1页", "第2页", "第3页"]


def test_a_script_next_link_is_followed_until_it_is_disabled(pager_states):
    assert shown(pager_states["next-link"]) == ["第1页", "第2页", "第3页"]


def test_real_links_are_left_to_the_crawler_and_inert_controls_stop_the_pager(pager_states):
    assert shown(pager_states["real-link"]) == ["第1页"]
    assert shown(pager_states["inert"]) == ["第1页"]


def test_the_pager_is_bounded(pager_states):
    assert shown(pager_states["endless"]) == ["第1页", "第2页", "第3页", "第4页"]  # max_clicks=3
