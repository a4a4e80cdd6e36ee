"""govarchive's Scrapy side: the disclosure spider, its middlewares, pipelines and settings."""
