"""The page reader reads a fetched attachment's text (in a worker when there are workers) and the spider
hands it on in its FileItem; a file whose reading fails is still a file, with status "failed"."""

from __future__ import annotations

import asyncio

from scrapy.http import Request, Response

from archive.extract import ExtractionError
from crawler.items import FileItem
from crawler.middlewares.page_reader import CONTEXT, PageReaderMiddleware
from crawler.spiders.disclosure import DisclosureSpider
from fixtures import documents
from tests.conftest import project_crawler

URL = "http://gov.test/col/tzgg/t20240229_1.html"
FILE = "http://gov.test/uploadfile/2024/fj.docx"


def spider_and_response(body: bytes, **settings):
    crawler = project_crawler(DisclosureSpider, **{"GOVARCHIVE_EXTRACT_WORKERS": 0, **settings})
    spider = DisclosureSpider.from_crawler(crawler, url=URL)
    spider.reader = PageReaderMiddleware.from_crawler(crawler)
    request = next(spider._attachment_request(FILE, URL))
    response = Response(FILE, body=body, request=request,
                        headers={"Content-Type": "application/octet-stream"})
    return spider, response


def file_item(spider, response) -> FileItem:
    asyncio.run(spider.reader.process_response(response.request, response))
    items = list(spider.parse(response))
    assert [type(i) for i in items] == [FileItem]
    return items[0]


def test_an_attachment_is_read_and_its_text_travels_with_the_file():
    spider, response = spider_and_response(documents.docx(["附件正文第一段"]))
    item = file_item(spider, response)
    assert (item.text.status, item.text.text) == ("text", "附件正文第一段")
    assert spider.crawler.stats.get_value("govarchive/files/text/text") == 1


def test_a_file_whose_reading_times_out_is_still_a_file_with_status_failed():
    spider, response = spider_and_response(documents.docx(["x"]))

    class Stuck:
        async def run(self, label, *args):
            raise ExtractionError(f"extraction took longer than 60 s on this page: {label}", kind="timeout")

    spider.reader.pool = Stuck()
    item = file_item(spider, response)
    assert item.text.status == "failed" and "60 s" in item.text.detail and item.sha256


def test_attachment_text_can_be_switched_off():
    spider, response = spider_and_response(documents.docx(["附件正文"]), GOVARCHIVE_ATTACHMENT_TEXT=False)
    assert file_item(spider, response).text is None


def test_a_zip_bomb_is_recorded_not_read():
    spider, response = spider_and_response(documents.zip_bomb_docx())
    assert file_item(spider, response).text.status == "too large"


def test_an_attachment_request_carries_its_context():
    spider, response = spider_and_response(b"")
    assert isinstance(response.request, Request) and response.request.meta[CONTEXT].role == "attachment"
