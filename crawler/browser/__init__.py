"""Pages only a browser can render: single-page apps, rendered by Debian's chromium through scrapy-playwright.

- `choice`: which pages go to the browser (GOVARCHIVE_BROWSER auto / always / never) and whether one is installed;
- `handler`: the http(s) download handler, Scrapy's own for every request but the ones marked for the browser;
  it starts the browser on the first of those, bounds it (pool, timeouts, pages per context) and hands the
  page to `pager` and `traffic`;
- `pager`: the rendered DOM once the scripts have settled, and again after each client-side pager step;
- `traffic`: every exchange the page makes (the page, its scripts, its XHR/JSON calls) written to the crawl's
  WARC through the capture middleware, as request/response pairs.
"""
