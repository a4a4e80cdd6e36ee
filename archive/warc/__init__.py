"""Archive-grade WARC files: write exchanges, read them back, repair, index, package, replay.

Scrapy-free. The crawler's capture middleware builds an `Exchange` per HTTP fetch and hands it to one
`WarcWriter` per crawl; everything else here works on WARC files alone (ours or another tool's).
"""

from archive.warc.digests import DigestIndex, MemoryDigestIndex, Original
from archive.warc.exchange import Exchange, WrittenExchange
from archive.warc.writer import WarcWriter

__all__ = [
    "DigestIndex",
    "Exchange",
    "MemoryDigestIndex",
    "Original",
    "WarcWriter",
    "WrittenExchange",
]
