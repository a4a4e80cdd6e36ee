"""Document identity (archive/identity.py, archive/store/documents.py): 文号 in any writing, bodies that
are nearly the same, wrapper pages of one file; and an existing database upgraded to hold them."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from archive.filetext import FileText
from archive.identity import distance, doc_number_key, simhash
from archive.report import Attachment, Metadata, Report
from archive.store import Filters
from tests.clirun import govarchive

BODY = ("为深入贯彻落实党中央、国务院决策部署，进一步优化营商环境，激发市场主体活力，结合本市实际，制定本方案。"
        "各区人民政府、市政府各部门要高度重视，加强组织领导，明确责任分工，确保各项任务落到实处。"
        "到2025年底，全市政务服务事项网上可办率达到百分之九十八以上，群众和企业办事更加便捷高效。"
        "市财政局会同有关部门做好资金保障工作，对符合条件的项目按照规定给予补助，严格资金使用管理。")
OTHER = ("为做好今年防汛抗旱工作，确保人民群众生命财产安全，现就有关事项通知如下。各地要立即开展汛前检查，"
         "重点排查水库、堤防、山洪地质灾害隐患点和城市易涝点。严格执行24小时值班和领导带班制度，遇有重大汛情险情"
         "及时报告，不得迟报、漏报、瞒报。加强应急物资储备和抢险队伍建设，做好随时投入抢险救灾的各项准备。")


@pytest.mark.parametrize("written", [
    "国办发〔2024〕7号", "国办发[2024]7号", "国办发（２０２４）第７号", " 国办发 (2024) 07 号", "国办发【2024】第07号",
    "国办发［２０２４］７号", "国办发﹝2024﹞7号",
])
def test_every_writing_of_a_doc_number_has_one_canonical_form(written):
    assert doc_number_key(written) == "国办发〔2024〕7号"


def test_other_numbers_stay_apart():
    assert doc_number_key("国办发〔2024〕17号") != doc_number_key("国办发〔2024〕7号")
    assert doc_number_key("国办发〔2023〕7号") != doc_number_key("国办发〔2024〕7号")
    assert doc_number_key(None) is None and doc_number_key("") is None


def test_simhash_keeps_near_copies_close_and_other_texts_far():
    base = simhash(BODY)
    assert distance(base, simhash("转发：" + BODY)) <= 5
    assert distance(base, simhash(BODY.replace("，", ",  "))) == 0  # punctuation and spaces do not count
    assert distance(base, simhash(OTHER)) > 12
    assert simhash("详见附件。") is None


def report(url: str, body: str = BODY, doc_number: str | None = None, issuer: str | None = None,
           attachments: list[Attachment] | None = None) -> Report:
    return Report(url=url, site=url.split("/")[2], title="关于优化营商环境的通知", body_text=body,
                  publish_time="2024-03-01", metadata=Metadata(doc_number=doc_number, issuer=issuer),
                  attachments=attachments or [])


def test_same_doc_number_and_issuer_is_one_document(store):
    store.save_reports([report("http://a.gov.cn/1.html", OTHER, "云政发〔2024〕7号", "云川市人民政府"),
                        report("http://b.gov.cn/9.html", BODY, "云政发[２０２４]第７号", "云川市人民政府"),
                        report("http://c.gov.cn/5.html", BODY[:50], "云政发〔2024〕7号", "另一个机关")])
    a, b, c = (store.get_record(u) for u in ("http://a.gov.cn/1.html", "http://b.gov.cn/9.html",
                                             "http://c.gov.cn/5.html"))
    assert a.document_id == b.document_id == a.id and c.document_id == c.id
    assert a.published_elsewhere == ["http://b.gov.cn/9.html"] and c.published_elsewhere == []
    found = [h.url for h in store.search("营商环境", Filters(doc_number="云政发（2024）7号"))]
    assert sorted(found) == ["http://a.gov.cn/1.html", "http://b.gov.cn/9.html", "http://c.gov.cn/5.html"]


def test_near_identical_bodies_are_one_document_across_batches(store):
    store.save_reports([report("http://a.gov.cn/1.html")])
    store.save_reports([report("http://b.gov.cn/2.html", "转发：" + BODY), report("http://c.gov.cn/3.html", OTHER)])
    ids = {u: store.get_record(u).document_id for u in ("http://a.gov.cn/1.html", "http://b.gov.cn/2.html",
                                                          "http://c.gov.cn/3.html")}
    assert ids["http://a.gov.cn/1.html"] == ids["http://b.gov.cn/2.html"] != ids["http://c.gov.cn/3.html"]
    assert len(store.search("营商环境", None, 10)) == 3  # every report's title says it
    assert len(store.search("营商环境", None, 10, distinct_documents=True)) == 2
    assert store.count_hits("营商环境", None, distinct_documents=True) == 2


def test_wrapper_pages_of_one_file_are_one_document_once_the_file_is_fetched(store):
    store.save_reports([report("http://a.gov.cn/1.html", "详见附件。", attachments=[Attachment("http://a.gov.cn/f.pdf")]),
                        report("http://b.gov.cn/2.html", "请见附件。", attachments=[Attachment("http://b.gov.cn/g.pdf")])])
    a = store.get_record("http://a.gov.cn/1.html")
    assert a.published_elsewhere == []
    text = FileText("text", "2023年部门决算")
    store.save_files([{"url": u, "content_type": "application/pdf", "size": 9, "sha256": "ab" * 32, "ref": None,
                       "text": text} for u in ("http://a.gov.cn/f.pdf", "http://b.gov.cn/g.pdf")])
    assert store.get_record("http://a.gov.cn/1.html").published_elsewhere == ["http://b.gov.cn/2.html"]
    hits = store.search("部门决算")
    assert {h.url for h in hits} == {"http://a.gov.cn/1.html", "http://b.gov.cn/2.html"}
    assert {h.attachment for h in hits} == {"http://a.gov.cn/f.pdf", "http://b.gov.cn/g.pdf"}


def test_refetched_file_text_replaces_what_was_indexed(store):
    store.save_reports([report("http://a.gov.cn/1.html", attachments=[Attachment("http://a.gov.cn/f.pdf", "附件")])])
    for words in ("旧的附件文字", "新的附件内容"):
        store.save_files([{"url": "http://a.gov.cn/f.pdf", "content_type": "application/pdf", "size": 9,
                           "sha256": words.encode().hex()[:64], "ref": None, "text": FileText("text", words)}])
    assert store.search("旧的附件") == [] and [h.attachment for h in store.search("新的附件")] == ["附件"]
    assert store.rebuild_search_index() == 1
    assert store.search("旧的附件") == [] and len(store.search("新的附件")) == 1


def test_a_database_of_the_previous_schema_upgrades_and_keeps_its_reports(tmp_path):
    from alembic import command

    from archive.store.engine import _alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0002")
        conn.exec_driver_sql("INSERT INTO reports (url, site, title, doc_number, content_hash, version, first_seen, "
                             "last_seen, withdrawn) VALUES ('http://a.gov.cn/1.html', 'a.gov.cn', '旧报告', "
                             "'云政发[2023]第5号', 'h', 1, 'x', 'x', 0)")
        conn.exec_driver_sql("INSERT INTO report_versions (report_id, version, content_hash, data) VALUES "
                             "(1, 1, 'h', '{\"url\": \"http://a.gov.cn/1.html\", \"title\": \"旧报告\"}')")
    engine.dispose()
    assert govarchive("show", "1", "--db", url).exit_code == 1  # the old schema is refused until upgraded
    upgraded = govarchive("db", "upgrade", "--db", url)
    assert upgraded.exit_code == 0, upgraded.output
    shown = govarchive("show", "1", "--db", url, "--json")
    assert shown.exit_code == 0, shown.output
    assert '"document_id": 1' in shown.stdout and '"published_elsewhere": []' in shown.stdout
    assert '"doc_number_key": "云政发〔2023〕5号"' in shown.stdout
    found = govarchive("export", "--db", url, "--doc-number", "云政发（2023）5号")
    assert found.exit_code == 0 and "旧报告" in found.stdout
