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
