"""govarchive's Scrapy-free library: extraction, WARC, storage, search and the CLI."""

__version__ = "0.1.0"
