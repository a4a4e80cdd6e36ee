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
ROBOTSTXT_OBEY = True

# --- capture and pipelines: WARC middleware, store pipeline, progress extension ---------------------
from archive.config import default_db_url as _default_db_url  # noqa: E402
from archive.config import default_warc_dir as _default_warc_dir  # noqa: E402

# WARC capture sits at 950, above RetryMiddleware (550), HttpCompressionMiddleware (590),
# RedirectMiddleware (600) and CookiesMiddleware (700): process_response runs in descending order, so
# it sees the response first, still content-encoded and before a 3xx is followed or a 503 retried;
# process_request runs in ascending order, so it sees every header the others set. It stays below
# nothing that could answer from a cache (HttpCacheMiddleware, 900, is off): cached answers are not
# network fetches and are not archived.
# (Merged with any middlewares the spider section declared above.)
DOWNLOADER_MIDDLEWARES = {
    **globals().get("DOWNLOADER_MIDDLEWARES", {}),
    "crawler.middlewares.warc_capture.WarcCaptureMiddleware": 950,
}
# One pipeline: the spider's items go to the Store (reports in batches, files, failures, withdrawals).
ITEM_PIPELINES = {
    **globals().get("ITEM_PIPELINES", {}),
    "crawler.pipelines.store.StorePipeline": 300,
}
# Live progress on stderr and the end-of-crawl summary; the crawl run is recorded even without it.
EXTENSIONS = {
    **globals().get("EXTENSIONS", {}),
    "crawler.extensions.progress.ProgressExtension": 500,
}

# Database (any SQLAlchemy URL); default $GOVARCHIVE_DB, else ./data/govarchive.db (DESIGN.md).
GOVARCHIVE_DB = _default_db_url()
# Reports per Store.save_reports transaction: fewer commits on the hot path, little lost on a crash.
GOVARCHIVE_BATCH_SIZE = 100

# WARC capture: off only for debugging or benchmarks (an archival crawler keeps every exchange).
GOVARCHIVE_WARC_ENABLED = True
GOVARCHIVE_WARC_DIR = str(_default_warc_dir())
# File names: PREFIX-YYYYMMDDhhmmssfff-SERIAL-HOST.warc.gz
GOVARCHIVE_WARC_PREFIX = "govarchive"
# Rotate to a new file past this size, in bytes (1 GB, the usual WARC file size).
GOVARCHIVE_WARC_MAX_SIZE = 1_000_000_000
# Record each WARC response record in the captures table (URL, status, file/offset) for lookups.
GOVARCHIVE_RECORD_CAPTURES = True

# Live progress line: "auto" (only when stderr is a terminal), "on" or "off".
GOVARCHIVE_PROGRESS = "auto"
# Seconds between progress redraws.
GOVARCHIVE_PROGRESS_INTERVAL = 0.5
# Print the end-of-crawl summary on stderr (it is recorded on the crawl run either way).
GOVARCHIVE_SUMMARY = True
