"""The rendered DOM of a page once its scripts have settled, and again after each client-side pager step.

A single-page app's list pager changes the list without a URL a crawler could request: buttons, `<a>`
without a target, `#page=2` hash links. The browser clicks them: the "下一页" control while there is one
that is enabled, else the next page's number, until nothing changes, the page would navigate away (a
real link, followed by the crawler instead), or `max_clicks` steps were taken. Each new state of the DOM
is kept for `archive.page.read_page`, which reads it as it reads any page; a pager's XHR calls are
archived with the rest of the page's traffic.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from urllib.parse import urldefrag

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from crawler.browser.traffic import PageTraffic

logger = logging.getLogger(__name__)

# The control that shows the next page, or null: enabled, visible, and not a link to another URL.
_PAGER_CONTROL = r"""(number) => {
  const NEXT = /^(下一页|下页|后页|下一頁|next|nextpage|>|›|»|>>)$/i;
  const label = (el) => ((el.tagName === 'INPUT' ? el.value : el.innerText || el.textContent) || '').replace(/\s+/g, '');
  const usable = (el) => {
    if (el.closest('[disabled], .disabled, .is-disabled, [aria-disabled="true"]')) return false;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === 'hidden' || style.pointerEvents === 'none') return false;
    if (el.tagName === 'A') {
      const href = (el.getAttribute('href') || '').trim().toLowerCase();
      return href === '' || href.startsWith('#') || href.startsWith('javascript:');
    }
    if (el.tagName === 'BUTTON' || el.tagName === 'INPUT') return !(el.form && el.type === 'submit');
    return el.hasAttribute('onclick') || el.getAttribute('role') === 'button' || style.cursor === 'pointer';
  };
  const next = (el) => NEXT.test(label(el)) || /(^|[\s_-])next($|[\s_-])/i.test(el.getAttribute('class') || '');
  const controls = [...document.querySelectorAll('a, button, input[type=button], li, span, [role=button]')];
  return controls.find((el) => next(el) && usable(el))
      || controls.find((el) => label(el) === String(number) && usable(el))
      || null;
}"""
_FINGERPRINT = "() => document.body ? document.body.innerText : ''"


async def render(page: Page, traffic: PageTraffic, *, quiet: float, timeout: float, max_clicks: int) -> list[str]:
    """The page's DOM after its scripts settled, then after each pager step that changed it."""
    page.set_default_timeout(timeout * 1000)
    start = urldefrag(page.url).url
    await traffic.idle(quiet, timeout)
    states = [await page.content()]
    seen = {await _fingerprint(page)}
    number = 2  # the page a numbered pager would show next
    for _ in range(max_clicks):
        control = (await page.evaluate_handle(_PAGER_CONTROL, number)).as_element()
        if control is None:
            break
        before = await _fingerprint(page)
        try:
            traffic.touch()  # the click's own requests may start only after a hashchange or a timer
            await control.click()
        except PlaywrightError as exc:
            logger.info("pager control on %s could not be clicked: %s", start, exc)
            break
        await traffic.idle(quiet, timeout)
        if urldefrag(page.url).url != start:  # a link to another page, not a pager: the crawler follows those
            break
        fingerprint = await _fingerprint(page)
        if fingerprint == before:  # a slow machine may not have begun the redraw yet: give it a grace period
            await _await_change(page, before, grace=max(quiet * 10, 2.0))
            await traffic.idle(quiet, timeout)
            fingerprint = await _fingerprint(page)
        if fingerprint in seen:
            break
        seen.add(fingerprint)
        states.append(await page.content())
        number += 1
    await traffic.drain()
    return states


async def _await_change(page: Page, before: str, *, grace: float) -> None:
    """Until the DOM's fingerprint differs from `before`, for at most `grace` seconds."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and await _fingerprint(page) == before:
        await asyncio.sleep(0.05)


async def _fingerprint(page: Page) -> str:
    return hashlib.sha1((await page.evaluate(_FINGERPRINT)).encode("utf-8")).hexdigest()
