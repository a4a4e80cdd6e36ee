"""Politeness warnings when a crawl of a real site starts without the defaults (issue 13)."""

from __future__ import annotations

from scrapy.settings import Settings

import crawler.settings as project
from crawler.extensions.politeness import politeness_warnings

REAL = ["http://www.example.gov.cn/xxgk/tzgg/"]
LOCAL = ["http://127.0.0.1:8000/col/tzgg/index.html", "http://localhost/x/"]


def settings(**overrides) -> Settings:
    values = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    return Settings({**values, **overrides})


def test_defaults_with_a_contact_are_quiet():
    assert politeness_warnings(settings(USER_AGENT="govarchive (+mailto:a@b.cn)"), REAL, project.USER_AGENT) == []


def test_default_user_agent_on_a_real_site_warns():
    (warning,) = politeness_warnings(settings(), REAL, project.USER_AGENT)
    assert "User-Agent" in warning and "contact" in warning


def test_robots_override_and_high_concurrency_are_said():
    found = politeness_warnings(settings(ROBOTSTXT_OBEY=False, CONCURRENT_REQUESTS_PER_DOMAIN=8,
                                         USER_AGENT="x (+mailto:a@b.cn)"), REAL, project.USER_AGENT)
    assert len(found) == 2
    assert "robots.txt is NOT obeyed on www.example.gov.cn" in found[0] and "8 requests at once" in found[1]


def test_loopback_hosts_are_the_operators_own():
    assert politeness_warnings(settings(ROBOTSTXT_OBEY=False), LOCAL, project.USER_AGENT) == []


def test_the_defaults_are_polite():
    assert project.ROBOTSTXT_OBEY is True and project.CONCURRENT_REQUESTS_PER_DOMAIN <= 2
    assert project.AUTOTHROTTLE_ENABLED is True and project.RETRY_AFTER_ENABLED is True
