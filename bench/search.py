"""Search benchmark: generate realistic Chinese reports, load them, time 200 mixed queries.

    python bench/search.py                      # 100,000 reports, SQLite and (if reachable) PostgreSQL
    python bench/search.py --reports 10000 --backend sqlite

Prints the load rate (reports/s) and p50/p95/max query latency per backend and per query kind.
Targets (issue 5): p95 <= 100 ms on SQLite at 100k reports; load >= 2,000 reports/s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.report import Attachment, Metadata, Report  # noqa: E402
from archive.store import Filters, Store  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

CITIES = [
    "杭州",
    "宁波",
    "温州",
    "嘉兴",
    "湖州",
    "绍兴",
    "金华",
    "衢州",
    "舟山",
    "台州",
    "丽水",
    "南京",
    "苏州",
    "无锡",
    "常州",
    "徐州",
    "合肥",
    "芜湖",
    "福州",
    "厦门",
    "济南",
    "青岛",
    "郑州",
    "洛阳",
    "武汉",
    "长沙",
    "广州",
    "深圳",
    "成都",
    "重庆",
    "西安",
    "昆明",
]
BODIES = [
    "人民政府办公室",
    "财政局",
    "发展和改革委员会",
    "教育局",
    "公安局",
    "民政局",
    "人力资源和社会保障局",
    "自然资源和规划局",
    "生态环境局",
    "住房和城乡建设局",
    "交通运输局",
    "水利局",
    "农业农村局",
    "商务局",
    "文化广电旅游局",
    "卫生健康委员会",
    "应急管理局",
    "审计局",
    "市场监督管理局",
    "统计局",
    "医疗保障局",
]
ABBR = {
    "人民政府办公室": "政办",
    "财政局": "财",
    "发展和改革委员会": "发改",
    "教育局": "教",
    "公安局": "公",
    "民政局": "民",
    "人力资源和社会保障局": "人社",
    "自然资源和规划局": "自然资源",
    "生态环境局": "环",
    "住房和城乡建设局": "建",
    "交通运输局": "交",
    "水利局": "水",
    "农业农村局": "农",
    "商务局": "商",
    "文化广电旅游局": "文旅",
    "卫生健康委员会": "卫健",
    "应急管理局": "应急",
    "审计局": "审",
    "市场监督管理局": "市监",
    "统计局": "统",
    "医疗保障局": "医保",
}
TOPICS = [
    "财政预算",
    "政府信息公开工作年度报告",
    "安全生产",
    "优化营商环境",
    "乡村振兴",
    "城市更新",
    "老旧小区改造",
    "义务教育",
    "公共卫生",
    "疫情防控",
    "就业创业",
    "养老服务",
    "生态环境保护",
    "河长制",
    "防汛抗旱",
    "数字政府建设",
    "政务服务",
    "行政执法",
    "招商引资",
    "科技创新",
    "知识产权",
    "食品安全",
    "住房保障",
    "交通运输",
    "文化旅游",
    "社会救助",
    "最低生活保障",
    "耕地保护",
    "国有资产",
]
KINDS = [
    "关于印发{t}实施方案的通知",
    "关于做好{t}工作的通知",
    "关于进一步加强{t}的意见",
    "{y}年{t}工作要点",
    "关于{t}有关事项的公告",
    "{y}年度{t}情况的报告",
    "关于公布{t}名单的通知",
    "{t}管理办法",
    "关于开展{t}专项行动的通知",
    "{c}{b}{y}年{t}工作总结",
]
COLUMNS = ["通知公告", "政策文件", "规划计划", "财政信息", "人事信息", "政策解读", "工作动态", "统计信息"]
SENTENCES = [
    "为深入贯彻落实党中央、国务院决策部署，进一步做好{t}工作，结合我市实际，制定本方案。",
    "各县（市、区）人民政府，市政府各部门、各直属单位：现将《{t}实施方案》印发给你们，请认真组织实施。",
    "坚持以人民为中心的发展思想，统筹发展和安全，推动{t}高质量发展。",
    "到{y}年底，基本建立覆盖城乡、功能完善、运行高效的{t}体系。",
    "各地各部门要提高思想认识，加强组织领导，明确责任分工，确保各项任务落到实处。",
    "市财政局要加大资金保障力度，统筹安排专项资金{n}万元，重点支持{t}项目建设。",
    "建立健全工作协调机制，定期召开联席会议，研究解决{t}中的重大问题。",
    "加强督查考核，将{t}工作纳入年度目标责任制考核内容，对工作不力的单位予以通报批评。",
    "本通知自印发之日起施行，有效期至{y2}年12月31日。",
    "{y}年，全市一般公共预算收入完成{n}亿元，同比增长{p}%，其中税收收入占比{q}%。",
    "依法依规做好政府信息公开工作，全年主动公开政府信息{n}条，受理依申请公开{m}件。",
    "加快推进数字化改革，实现政务服务事项“一网通办”，办理时限压缩{p}%。",
    "严格落实安全生产责任制，开展隐患排查整治，全年排查整改隐患{n}处。",
    "附件：1.{t}任务分解表 2.{t}联系人名单",
    "联系人：{name}，联系电话：0571-{tel}。",
]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马胡朱郭何罗高林"


def make_report(i: int, rng: random.Random) -> Report:
    city, body, topic = rng.choice(CITIES), rng.choice(BODIES), rng.choice(TOPICS)
    year = rng.randint(2015, 2025)
    issuer = f"{city}市{body}"
    fmt = {
        "t": topic,
        "y": year,
        "y2": year + 3,
        "c": city,
        "b": body,
        "n": rng.randint(10, 9999),
        "m": rng.randint(1, 500),
        "p": rng.randint(1, 60),
        "q": rng.randint(40, 90),
        "name": rng.choice(SURNAMES) + rng.choice("明华军伟芳娟强磊洋艳"),
        "tel": rng.randint(10000000, 99999999),
    }
    title = rng.choice(KINDS).format(**fmt)
    paragraphs = [rng.choice(SENTENCES).format(**fmt) for _ in range(rng.randint(5, 12))]
    site = f"www.{CITIES.index(city):02d}.gov.cn"
    doc = f"{city[0]}{ABBR[body]}〔{year}〕{rng.randint(1, 150)}号"
    date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    attachments = [
        Attachment(f"https://{site}/att/{i}_{k}.pdf", f"附件{k + 1}") for k in range(rng.randint(0, 2))
    ]
    r = Report(
        url=f"https://{site}/art/{year}/{i}.html",
        site=site,
        column=rng.choice(COLUMNS),
        breadcrumb=["首页", "政府信息公开", "通知公告"],
        title=title,
        publish_time=date,
        source=issuer,
        metadata=Metadata(
            index_no=f"{rng.randint(10**9, 10**10)}/{year}-{i:05d}",
            doc_number=doc,
            issuer=issuer,
            written_date=date,
            topic="综合政务",
            validity="有效",
        ),
        body_text="\n".join(paragraphs),
        body_html="<p>" + "</p><p>".join(paragraphs) + "</p>",
        attachments=attachments,
        fetched_at="2025-01-01T00:00:00+00:00",
        status=200,
    )
    r.content_hash = r.compute_content_hash()
    return r


def make_queries(rng: random.Random, n: int = 200) -> list[tuple[str, str, Filters | None]]:
    words = [
        "财政",
        "预算",
        "安全生产",
        "营商环境",
        "乡村振兴",
        "疫情防控",
        "养老服务",
        "信息公开",
        "数字化改革",
        "专项资金",
        "督查考核",
        "隐患排查",
        "义务教育",
        "社会救助",
        "知识产权",
    ]
    chars = list("财税政教医农水电路园林矿粮")
    kinds = []
    for k in range(n):
        c = k % 8
        if c == 0:
            kinds.append(("1-char", rng.choice(chars), None))
        elif c == 1:
            kinds.append(
                ("2-char", rng.choice(["财政", "预算", "安全", "教育", "养老", "税收", "防汛", "执法"]), None)
            )
        elif c == 2:
            kinds.append(
                (
                    "long",
                    rng.choice(
                        [
                            "一般公共预算收入",
                            "政府信息公开工作年度报告",
                            "老旧小区改造",
                            "优化营商环境实施方案",
                            "最低生活保障",
                        ]
                    ),
                    None,
                )
            )
        elif c == 3:
            kinds.append(("phrase", f'"{rng.choice(words)}工作"', None))
        elif c == 4:
            kinds.append(("and", f"{rng.choice(words)} {rng.choice(words)}", None))
        elif c == 5:
            kinds.append(("or", f"{rng.choice(words)} OR {rng.choice(words)}", None))
        elif c == 6:
            kinds.append(("not", f"{rng.choice(words)} -{rng.choice(words)}", None))
        else:
            f = rng.choice(
                [
                    Filters(since="2023-01-01"),
                    Filters(issuer=rng.choice(CITIES)),
                    Filters(column=rng.choice(COLUMNS)),
                    Filters(doc_number="〔2024〕"),
                    Filters(since="2020", until="2021", withdrawn=False),
                ]
            )
            kinds.append(("filtered", rng.choice(words + chars), f))
    return kinds


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(name: str, url: str, n: int, batch: int, seed: int) -> dict:
    rng = random.Random(seed)
    store = Store(url)
    load_s = 0.0
    for start in range(0, n, batch):
        reports = [make_report(i, rng) for i in range(start, min(n, start + batch))]
        t0 = time.perf_counter()  # only the store is timed, not the generator
        store.save_reports(reports, None)
        load_s += time.perf_counter() - t0
    if store.dialect == "postgresql":
        # what autovacuum does after a bulk load: merge the GIN pending lists, gather statistics
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    queries = make_queries(random.Random(seed + 1))
    for q, _, f in [(q, None, f) for _, q, f in queries[:10]]:
        store.search(q, f, 20)  # warm the page cache
    lat: dict[str, list[float]] = {}
    hits = 0
    for kind, q, f in queries:
        t = time.perf_counter()
        hits += len(store.search(q, f, 20))
        lat.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
    store.close()
    allv = [v for vs in lat.values() for v in vs]
    print(f"\n{name}: {n} reports loaded in {load_s:.1f} s = {n / load_s:,.0f} reports/s")
    print(
        f"  200 queries: p50 {statistics.median(allv):.1f} ms, p95 {pct(allv, 95):.1f} ms, "
        f"max {max(allv):.1f} ms, {hits} hits"
    )
    for kind, vs in lat.items():
        print(f"    {kind:9s} p50 {statistics.median(vs):7.1f} ms  p95 {pct(vs, 95):7.1f} ms")
    return {"load_rate": n / load_s, "p50": statistics.median(allv), "p95": pct(allv, 95)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000, help="reports per save_reports call")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args(argv)
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite (FTS5)", f"sqlite:///{tmp}/bench.db", args.reports, args.batch, args.seed)
    if args.backend in ("postgresql", "both"):
        try:
            import psycopg

            dsn = PG_ADMIN.replace("+psycopg", "")
            name = f"govarchive_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except Exception as exc:  # no server: say so and stop
            print(f"\nPostgreSQL skipped: {exc.__class__.__name__}: {exc}")
            return
        try:
            run(
                "PostgreSQL (tsvector + GIN)",
                PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
                args.reports,
                args.batch,
                args.seed,
            )
        finally:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
