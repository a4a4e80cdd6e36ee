"""Linking reports of one document (archive.identity): their keys in `document_keys`, and one document id,
the lowest report id of the group, in `reports.document_id`.

Called in the transaction that saves reports (`link_reports`) and files (`link_files`: a wrapper page's
attachment becomes its key once the file was fetched). Groups only grow: a report that changes keeps the
document it was linked to, as a repost that gained a line is still that document.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, case, delete, func, select, update

from archive.identity import (
    SIMHASH_DISTANCE,
    distance,
    doc_number_key,
    document_keys,
    file_key,
    simhash,
    simhash_hex,
)
from archive.report import Report
from archive.store.models import DocumentKey, FileRow, ReportAttachment, ReportRow

_AHEAD = "_body_simhash"
IN_CHUNK = 500


def body_simhash(report: Report) -> int | None:
    """The body's SimHash, computed once (`fingerprint_ahead` in an extraction worker when it ran)."""
    ahead = getattr(report, _AHEAD, None)
    if ahead is not None and ahead[0] == report.body_text:
        return ahead[1]
    return simhash(report.body_text)


def fingerprint_ahead(report: Report) -> Report:
    setattr(report, _AHEAD, (report.body_text, simhash(report.body_text)))
    return report


def link_reports(conn: Connection, items: Sequence[tuple[int, Report]]) -> None:
    """Key and link (report id, report) pairs whose content was just saved."""
    if not items:
        return
    R, K = ReportRow.__table__, DocumentKey.__table__
    rows, keys = [], []
    for rid, report in items:
        fingerprint = body_simhash(report)
        md = report.metadata
        rows.append({"b_id": rid, "b_key": doc_number_key(md.doc_number), "b_sim": simhash_hex(fingerprint)})
        keys += [{"report_id": rid, "key": key} for key in dict.fromkeys(document_keys(md.doc_number, md.issuer,
                                                                                        fingerprint))]
    conn.execute(update(R).where(R.c.id == bindparam("b_id"))
                 .values(doc_number_key=bindparam("b_key"), body_simhash=bindparam("b_sim")), rows)
    ids = [rid for rid, _ in items]
    for k in range(0, len(ids), IN_CHUNK):
        conn.execute(delete(K).where(K.c.report_id.in_(ids[k:k + IN_CHUNK])))
    if keys:
        conn.execute(K.insert(), keys)
    _key_wrapped_files(conn, ids)
    for rid in ids:
        _assign(conn, rid)


def link_files(conn: Connection, urls: Sequence[str]) -> None:
    """Files just saved: the wrapper pages that link them gain their digests as keys, and are linked."""
    if not urls:
        return
    A = ReportAttachment.__table__
    ids: set[int] = set()
    for k in range(0, len(urls), IN_CHUNK):
        ids.update(conn.execute(select(A.c.report_id).where(A.c.url.in_(urls[k:k + IN_CHUNK]))).scalars())
    added = _key_wrapped_files(conn, sorted(ids))
    for rid in sorted(added):
        _assign(conn, rid)


def _key_wrapped_files(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Give wrapper pages among `ids` (bodies too short for a SimHash) their fetched attachments'
    digests as keys; the ids that gained one."""
    A, F, R, K = ReportAttachment.__table__, FileRow.__table__, ReportRow.__table__, DocumentKey.__table__
    found: set[tuple[int, str]] = set()
    for k in range(0, len(ids), IN_CHUNK):
        q = (select(A.c.report_id, F.c.sha256).select_from(A.join(F, F.c.url == A.c.url).join(R, R.c.id == A.c.report_id))
             .where(A.c.report_id.in_(ids[k:k + IN_CHUNK]), R.c.body_simhash.is_(None), F.c.sha256.is_not(None)))
        found.update((row.report_id, file_key(row.sha256)) for row in conn.execute(q))
    if not found:
        return set()
    have = set()
    for k in range(0, len(ids), IN_CHUNK):
        have.update(conn.execute(select(K.c.report_id, K.c.key).where(K.c.report_id.in_(ids[k:k + IN_CHUNK]))).all())
    new = sorted(found - have)
    if new:
        conn.execute(K.insert(), [{"report_id": rid, "key": key} for rid, key in new])
    return {rid for rid, _ in new}


def _assign_statements() -> tuple:
    """The statements of `_assign`, built once (it runs for every report saved): the report's own hash
    and document; every other report sharing a key with it, once (not once per shared SimHash band),
    with whether all it shares are SimHash bands (then the whole hashes must be close)."""
    R, K = ReportRow.__table__, DocumentKey.__table__
    rid = bindparam("rid")
    own = select(R.c.body_simhash, R.c.document_id).where(R.c.id == rid)
    other = K.alias("other")
    sim_only = func.min(case((other.c.key.like("sim%"), 1), else_=0)).label("sim_only")
    shared = (select(other.c.report_id, R.c.body_simhash, R.c.document_id, sim_only)
              .select_from(other.join(R, R.c.id == other.c.report_id))
              .where(other.c.key.in_(select(K.c.key).where(K.c.report_id == rid)), other.c.report_id != rid)
              .group_by(other.c.report_id, R.c.body_simhash, R.c.document_id))
    assign = update(R).where(R.c.id == rid).values(document_id=bindparam("target"))
    return own, shared, assign


_OWN, _SHARED, _SET_DOCUMENT = _assign_statements()


def _assign(conn: Connection, rid: int) -> None:
    """Join the report to the documents of every report it shares a key with (SimHash bands only when
    the whole hashes are within SIMHASH_DISTANCE bits), under the lowest document id among them."""
    R = ReportRow.__table__
    own = conn.execute(_OWN, {"rid": rid}).one()
    mine = int(own.body_simhash, 16) if own.body_simhash is not None else None
    documents = {own.document_id or rid}
    for row in conn.execute(_SHARED, {"rid": rid}):
        if row.sim_only and (mine is None or row.body_simhash is None
                             or distance(mine, int(row.body_simhash, 16)) > SIMHASH_DISTANCE):
            continue
        documents.add(row.document_id or row.report_id)
    target = min(documents)
    conn.execute(_SET_DOCUMENT, {"rid": rid, "target": target})
    merged = sorted(documents - {target})
    if merged:
        conn.execute(update(R).where(R.c.document_id.in_(merged)).values(document_id=target))
        conn.execute(update(R).where(R.c.id.in_(merged), R.c.document_id.is_(None)).values(document_id=target))


def published_elsewhere(conn: Connection, report_id: int, document_id: int | None) -> list[str]:
    """URLs of the other reports of the document, oldest first."""
    if document_id is None:
        return []
    R = ReportRow.__table__
    q = select(R.c.url).where(R.c.document_id == document_id, R.c.id != report_id).order_by(R.c.id)
    return list(conn.execute(q).scalars())
