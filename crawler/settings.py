"""Scrapy settings for govarchive, grouped by concern.

Two sections, each owned by one part of the crawler: the spider's (politeness, robots, retries, link
following) and the capture/pipeline side's (WARC middleware, pipelines, extensions).
"""

BOT_NAME = "govarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Scrapy >= 2.13 style: asyncio reactor, async start().
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# --- spider: politeness, robots, retries, link following -------------------------------------------
# Site profiles (crawler/sites/*.yaml) override the politeness values below at spider priority;
# `-s NAME=VALUE` overrides both.
ROBOTSTXT_OBEY = True  # only an explicit -s ROBOTSTXT_OBEY=False turns it off (logged: extensions/politeness.py)
# Set one with a contact address (a crawl of a real site warns while it is this default).
USER_AGENT = "Mozilla/5.0 (compatible; govarchive/0.1; archival crawler of government disclosure pages)"

# Scrapy runs the output of every callback through CONCURRENT_ITEMS asyncio tasks; its default, 100,
# costs ~100 task starts per response while our one pipeline is synchronous and gains nothing from them.
CONCURRENT_ITEMS = 2

# Politeness: few parallel requests per site, a delay between them, AutoThrottle on top.
CONCURRENT_REQUESTS = 16  # all sites together
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0  # seconds between requests to one site
DOWNLOAD_DELAY_JITTER = 0.5  # ±50 % random variation of that delay
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0  # seconds
AUTOTHROTTLE_MAX_DELAY = 60.0  # seconds
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0  # requests in flight per site, on average
DOWNLOAD_TIMEOUT = 60  # seconds

# Retries: transient server errors and rate limits, waiting as Retry-After asks (RetryAfterMiddleware).
RETRY_ENABLED = True
RETRY_TIMES = 3  # retries after the first attempt
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]  # not 412/521: anti-bot, never hammered
RETRY_AFTER_ENABLED = True
RETRY_BACKOFF_BASE = 1.0  # seconds; doubled per retry when there is no Retry-After header
RETRY_BACKOFF_MAX = 120.0  # seconds; the longest wait before one retry, Retry-After included

# Sizes: attachments can be big scans; past the maximum the file is skipped (logged), not truncated.
# A body whose size, as sent or inflated, reaches the limit is a recorded `too-large` failure
# (crawler/middlewares/body_limits.py: the check is strict, `>=`, and inflation stops there).
DOWNLOAD_MAXSIZE = 512 * 1024 * 1024  # bytes
DOWNLOAD_WARNSIZE = 64 * 1024 * 1024  # bytes
# The limit for pages (every request but attachments and images): a page is read whole in an extraction
# worker, which needs ~40 MiB per MiB of page (a 4 MiB page: ~220 MiB); real disclosure pages are well
# under 1 MB, but a page with images pasted in as data: URIs can pass it (raise the limit for such a site).
GOVARCHIVE_PAGE_MAXSIZE = 4 * 1024 * 1024  # bytes

# Trap safety nets (crawler/link_policy.py does the real filtering): list -> detail -> attachment is depth 3;
# pagination computed from page totals stays shallow, a 下一页-only chain costs one level per page.
DEPTH_LIMIT = 200
# List pages followed per column (start URL and column): an endless pager stops here, and earlier at the
# first page that brings no record link not seen before. Both are counted in the summary (`pagination`).
GOVARCHIVE_MAX_LIST_PAGES = 500
URLLENGTH_LIMIT = 1024
REDIRECT_MAX_TIMES = 10
DUPEFILTER_CLASS = "scrapy.dupefilters.RFPDupeFilter"
COOKIES_ENABLED = True  # some portals need their session cookie for dataproxy/list calls

# Anti-bot challenges (412/521, $_ts stubs): each doubles the site's download delay (a challenge's
# Retry-After pauses it as long); after this many in a row (nothing but challenges) the site is paused,
# its requests waiting; after as many in a row again, it is given up: its remaining requests are
# recorded as `antibot` failures, not sent.
GOVARCHIVE_ANTIBOT_MAX_HITS = 3
GOVARCHIVE_ANTIBOT_DELAY = 30.0  # seconds: the site's download delay after a challenge
GOVARCHIVE_ANTIBOT_MAX_DELAY = 300.0  # seconds: the longest that delay grows
GOVARCHIVE_ANTIBOT_PAUSE = 300.0  # seconds: the pause after MAX_HITS challenges in a row (0: give up at once)
# Fetch the images of reports too (attachments always are).
GOVARCHIVE_FETCH_IMAGES = False
# Processes that extract detail pages beside the event loop: "auto" (one per core but the crawl's
# own, at most 4), or a number; 0 extracts inline in the crawl process.
GOVARCHIVE_EXTRACT_WORKERS = "auto"
# Seconds one page may take in an extraction worker before it is a recorded "timeout" failure (0: no limit).
GOVARCHIVE_EXTRACT_TIMEOUT = 60.0
# Read the text of fetched attachments (PDF, Word, Excel, OFD, WPS: archive/filetext) in those workers,
# under the same timeout, so it is stored and searched with the report; False keeps only their bytes.
GOVARCHIVE_ATTACHMENT_TEXT = True

# Pages only a browser can render (crawler/browser): single-page apps whose mount element stays empty
# until their script bundle has fetched and drawn the list. Rendered by Debian's chromium package
# (apt-get install chromium) through scrapy-playwright; every exchange the browser makes is archived.
# "auto": only pages the reader recognises as app shells; "always": every page and record (not endpoint
# calls or attachments); "never": none (a shell is logged as neither a list nor a detail page).
GOVARCHIVE_BROWSER = "auto"
# The browser to launch: a command on PATH or a path. Without it, `auto` records a "browser" failure
# for each shell and `always` refuses to start.
GOVARCHIVE_BROWSER_EXECUTABLE = "chromium"
# Pages rendered at once, all sites together (each is a renderer process of ~50-100 MB).
GOVARCHIVE_BROWSER_POOL = 2
# Seconds for each browser step: the navigation, the scripts settling, one pager click.
GOVARCHIVE_BROWSER_TIMEOUT = 30.0
# Seconds without network activity after which a page (or a pager click) counts as rendered.
GOVARCHIVE_BROWSER_QUIET = 0.3
# Client-side pager steps (下一页, numbered buttons, hash links) the browser follows on one page.
GOVARCHIVE_BROWSER_MAX_CLICKS = 50
# Memory bound: a browser context (its cache, storage and scripts' leftovers) is closed after this many
# pages and a fresh one opened.
GOVARCHIVE_BROWSER_PAGES_PER_CONTEXT = 20
# The http(s) handler: Scrapy's own for every request, the browser for those the spider marks; the
# browser is started on the first such request, never for a crawl that has none.
DOWNLOAD_HANDLERS = {
    "http": "crawler.browser.handler.BrowserDownloadHandler",
    "https": "crawler.browser.handler.BrowserDownloadHandler",
}

# Loopback hosts (127.0.0.0/8, localhost, ::1) are the operator's own machine (mirrors, test sites):
# one shared slot without delay or AutoThrottle. Real sites keep every politeness default above.
GOVARCHIVE_LOOPBACK_UNTHROTTLED = True
GOVARCHIVE_LOOPBACK_SLOT = "loopback"
DOWNLOAD_SLOTS = {GOVARCHIVE_LOOPBACK_SLOT: {"delay": 0.0, "concurrency": 8, "jitter": 0.0}}

# Downloader middlewares, by the order their process_response runs (highest first):
# - WARC capture (950), above RetryMiddleware (550), HttpCompressionMiddleware (590), RedirectMiddleware
#   (600) and CookiesMiddleware (700): it sees the response first, still content-encoded and before a 3xx
#   is followed or a 503 retried; its process_request runs last, so the request record shows every
#   header the others set. Nothing that answers from a cache sits above it (HttpCacheMiddleware, 900,
#   is off): cached answers are not network fetches and are not archived.
# - FromArchiveMiddleware (940, only with `crawl --resume`): its process_request runs after all others and
#   answers from the resumed run's WARC records; the capture, whose process_request did not run, skips them.
# - ConditionalRequestMiddleware (800): If-None-Match / If-Modified-Since for known documents, added before
#   the capture records the request; a 304 it turns into the archived page after the capture wrote it and
#   Scrapy's DownloaderStats (850) counted the 304 as it came over the network.
# - RetryAfterMiddleware (560): its process_response runs just before RetryMiddleware's.
# - Scrapy's RedirectMiddleware (600), HttpCompressionMiddleware (590) and MetaRefreshMiddleware (580)
#   are replaced at their own orders: a redirect loop is a recorded failure, not a silent duplicate;
#   decompression has a strict size limit and rejects truncated gzip before anything reads the body;
#   the meta refresh is looked for in the first 4 KB without decoding the whole body.
# - RobotsTxtMiddleware (100): Scrapy's, mended so that requests waiting for robots.txt are all checked
#   (crawler/middlewares/robots.py).
# - PageReaderMiddleware (100): reads the final, decoded response once (archive.page.read_page).
# - AntibotMiddleware (90): acts on the reading (backs off, then stops requesting a challenging host).
# - ScopeMiddleware (60): drops off-site requests (redirect targets) before RobotsTxtMiddleware (100)
#   would fetch the other site's robots.txt for them.
# - LoopbackSlotMiddleware (50): the slot must be chosen before the request reaches the downloader.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.loopback.LoopbackSlotMiddleware": 50,
    "crawler.middlewares.scope.ScopeMiddleware": 60,
    "crawler.middlewares.antibot.AntibotMiddleware": 90,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.RobotsTxtMiddleware": 100,
    "crawler.middlewares.page_reader.PageReaderMiddleware": 100,
    "crawler.middlewares.retry_after.RetryAfterMiddleware": 560,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.redirect.MetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.body_limits.BodyLimitsMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.redirect.RedirectMiddleware": 600,
    "crawler.middlewares.conditional.ConditionalRequestMiddleware": 800,
    "crawler.middlewares.from_archive.FromArchiveMiddleware": 940,
    "crawler.middlewares.warc_capture.WarcCaptureMiddleware": 950,
}

# --- capture and pipelines: WARC middleware, store pipeline, extensions ------------------------------
from archive.config import default_db_url as _default_db_url  # noqa: E402
from archive.config import default_warc_dir as _default_warc_dir  # noqa: E402

# One pipeline: the spider's items go to the Store (reports in batches, files, failures, withdrawals).
ITEM_PIPELINES = {"crawler.pipelines.store.StorePipeline": 300}
# The crawl-run record (always on: every crawl is a run), live progress on stderr and the summary.
EXTENSIONS = {
    "crawler.extensions.offline.OfflineSuffixListExtension": 0,
    "crawler.extensions.crawl_run.CrawlRunExtension": 100,
    "crawler.extensions.budget.BudgetExtension": 200,
    "crawler.extensions.politeness.PolitenessExtension": 300,
    "crawler.extensions.progress.ProgressExtension": 500,
}

# Database (any SQLAlchemy URL); default $GOVARCHIVE_DB, else ./data/govarchive.db (DESIGN.md).
GOVARCHIVE_DB = _default_db_url()
# Reports per Store.save_reports transaction: fewer commits on the hot path, little lost on a crash.
GOVARCHIVE_BATCH_SIZE = 100
# Seconds after which what the store pipeline holds is committed even when the batch is not full: the
# most extraction a crash can lose.
GOVARCHIVE_FLUSH_INTERVAL = 3.0

# --- unattended operation: runs, resume, budgets, schedule -------------------------------------------
# Seconds between refreshes of the running crawl's heartbeat in its run row.
GOVARCHIVE_HEARTBEAT_INTERVAL = 30.0
# Seconds without a heartbeat after which an unfinished run of another host counts as crashed (on this
# host a run is crashed as soon as its process is gone).
GOVARCHIVE_RUN_STALE_SECONDS = 600.0
# Set by `govarchive crawl --resume`: the run carried on (0: a fresh crawl). Responses archived by that
# run (and the runs it resumed) are read from the WARC files instead of being fetched again.
GOVARCHIVE_RESUME_RUN = 0
# Budgets of one run (0: none): pages fetched, seconds, and the free disk space (bytes) the WARC
# directory must keep. A spent budget ends the run "interrupted (budget)", resumable with --resume.
GOVARCHIVE_MAX_PAGES = 0
GOVARCHIVE_MAX_SECONDS = 0.0
GOVARCHIVE_MIN_FREE_BYTES = 500_000_000
# `govarchive schedule`: seconds a site lock lasts without renewal (its holder renews it while crawling),
# so a holder that died frees the site after at most this long (at once when on the same host).
GOVARCHIVE_LOCK_LEASE = 600.0
# Incremental crawls: documents whose publish date is younger than GOVARCHIVE_RECHECK_YOUNG_DAYS are
# rechecked on every crawl (a conditional request); older ones only when their last check is
# GOVARCHIVE_RECHECK_OLD_EVERY_DAYS old, or when their list entry shows another date. 0 (the default)
# rechecks every known document on every crawl, conditionally; a site profile sets its own
# (politeness: recheck_young_days: 30), since an old document not asked for is found withdrawn later.
GOVARCHIVE_RECHECK_YOUNG_DAYS = 0
GOVARCHIVE_RECHECK_OLD_EVERY_DAYS = 7
# Send If-None-Match / If-Modified-Since from the last capture's validators (a 304 is archived as a
# server-not-modified revisit and the archived page is read again).
GOVARCHIVE_CONDITIONAL_REQUESTS = True

# WARC capture: off only for debugging or benchmarks (an archival crawler keeps every exchange).
GOVARCHIVE_WARC_ENABLED = True
GOVARCHIVE_WARC_DIR = str(_default_warc_dir())
# File names: PREFIX-YYYYMMDDhhmmssfff-SERIAL-HOST.warc.gz
GOVARCHIVE_WARC_PREFIX = "govarchive"
# Rotate to a new file past this size, in bytes (1 GB, the usual WARC file size).
GOVARCHIVE_WARC_MAX_SIZE = 1_000_000_000
# Record each WARC response record in the captures table (URL, status, file/offset) for lookups.
GOVARCHIVE_RECORD_CAPTURES = True

# The progress extension at all (live line and summary); off for embedding the spider elsewhere.
GOVARCHIVE_PROGRESS_ENABLED = True
# Live progress line: "auto" (only when stderr is a terminal), "on" or "off".
GOVARCHIVE_PROGRESS = "auto"
# Seconds between progress redraws.
GOVARCHIVE_PROGRESS_INTERVAL = 0.5
# Print the end-of-crawl summary on stderr (it is recorded on the crawl run either way).
GOVARCHIVE_SUMMARY = True

# --- distributed crawl: the shared frontier (crawler/frontier) ----------------------------------------
# Several workers share one Redis queue and duplicate filter, one database and one crawl run; each writes
# its own WARC files. "" crawls alone (Scrapy's own in-memory scheduler).
GOVARCHIVE_FRONTIER = ""  # redis://HOST:PORT/DB
# Redis key prefix of every crawl on that Redis (a crawl's keys: PREFIX:DIGEST-OF-ITS-START-URLS:…).
GOVARCHIVE_FRONTIER_PREFIX = "govarchive"
# This worker's id: in its WARC file prefix, its warcinfo and its leases; "" is the host name. Give
# each worker on one machine its own; a killed worker started again with the same id takes back at
# once what it had taken from the queue.
GOVARCHIVE_FRONTIER_WORKER = ""
# Seconds a worker stays alive without renewing (every third of it): after that its leases go back to
# the queue for the other workers.
GOVARCHIVE_FRONTIER_LEASE_TTL = 30.0
# Hold CONCURRENT_REQUESTS_PER_DOMAIN and DOWNLOAD_DELAY for the whole cluster (a lease per request in
# Redis), not per worker.
GOVARCHIVE_FRONTIER_POLITENESS = True
ADDONS = {"crawler.frontier.addon.FrontierAddon": 0}
