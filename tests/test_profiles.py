"""Site profiles: the shipped ones load, bad ones fail with a message naming the file and the field."""

from __future__ import annotations

import pytest

from crawler.profiles import ProfileError, available_profiles, load_profile, parse_profile


def test_shipped_profiles_load():
    assert {"example", "fixture"} <= set(available_profiles())
    for name in available_profiles():
        profile = load_profile(name)
        assert profile.start_urls and all(u.startswith(("http://", "https://")) for u in profile.start_urls)


def test_example_profile_documents_every_field():
    profile = load_profile("example")
    assert profile.hosts == ["www.example.gov.cn", ".files.example.gov.cn"]
    assert profile.detail_patterns[0].search("/art/2024/2/29/art_1234_5.html")
    assert profile.selectors["list_links"].startswith("descendant-or-self::ul")  # CSS turned into XPath
    assert profile.selectors["next_page"] == "//a[contains(., '下一页')]"
    assert profile.politeness == {"DOWNLOAD_DELAY": 2.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
                                  "AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
                                  "GOVARCHIVE_RECHECK_YOUNG_DAYS": 30, "GOVARCHIVE_RECHECK_OLD_EVERY_DAYS": 7}
    assert profile.schedule is None  # a placeholder: `schedule`'s default must never crawl it


def test_schedule_by_default_runs_no_placeholder_profile():
    from crawler.schedule import scheduled_profiles

    assert [p.name for p in scheduled_profiles((), None)] == ["fixture"]


def test_base_url_override_rewrites_relative_start_urls():
    profile = load_profile("fixture", base_url="http://127.0.0.1:5555")
    assert profile.start_urls[0] == "http://127.0.0.1:5555/col/tzgg/index.html"
    assert profile.hosts == ["127.0.0.1:5555"]


def test_unknown_profile_lists_the_available_ones():
    with pytest.raises(ProfileError, match="no site profile 'nosuch'.*available: .*example"):
        load_profile("nosuch")


def test_profile_by_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("start_urls: [https://www.gov.test/col/a/]\n", encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.name == "mine" and profile.hosts == ["www.gov.test"]


@pytest.mark.parametrize(("data", "message"), [
    ("just a string", "must be a mapping"),
    ({"start_urls": []}, "start_urls: give at least one"),
    ({"start_urls": ["/col/a/"]}, "relative but the profile has no base_url"),
    ({"start_urls": ["https://g.test/"], "colour": "red"}, r"unknown field\(s\) colour"),
    ({"start_urls": ["https://g.test/"], "patterns": {"detail": ["(unclosed"]}}, "patterns.detail: bad regular expression"),
    ({"start_urls": ["https://g.test/"], "patterns": {"details": ["x"]}}, r"patterns: unknown field\(s\) details"),
    ({"start_urls": ["https://g.test/"], "selectors": {"list_links": "ul[[["}}, "selectors.list_links: bad selector"),
    ({"start_urls": ["https://g.test/"], "politeness": {"download_delay": "fast"}}, "politeness.download_delay"),
    ({"start_urls": ["https://g.test/"], "politeness": {"autothrottle": 1}}, "politeness.autothrottle"),
    ({"start_urls": ["https://g.test/"], "schedule": "every day"}, "schedule: 'every day' is not a cron"),
    ({"start_urls": ["https://g.test/"], "base_url": "g.test"}, "base_url 'g.test' must be an absolute"),
    ({"start_urls": "https://g.test/", "allowed_hosts": [3]}, r"allowed_hosts\[0\]"),
])
def test_bad_profiles_fail_clearly(data, message):
    with pytest.raises(ProfileError, match=message) as info:
        parse_profile(data, source="sites/bad.yaml")
    assert str(info.value).startswith("sites/bad.yaml: ")


def test_bad_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("start_urls: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="broken.yaml: not valid YAML"):
        load_profile(str(path))


@pytest.mark.parametrize("cron", ["0 3 * * *", "*/15 8-18 * * 1-5", "30 2 1,15 * *", "@daily", "0 4 * * sun"])
def test_valid_schedules(cron):
    assert parse_profile({"start_urls": ["https://g.test/"], "schedule": cron}).schedule == cron
