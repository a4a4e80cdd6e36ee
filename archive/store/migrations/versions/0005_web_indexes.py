"""indexes the web interface reads by: captures by WARC record id, reports by site and column

Revision ID: 0005
Revises: 0004

- `captures.warc_record_id`: an archived original that is a revisit is followed to the record its
  WARC-Refers-To names (`/reports/{id}/original`); without an index that is a scan of every capture.
- `reports (site, column)`: the overview (`/`) counts reports per site and column from this index
  alone, without reading a report.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_captures_warc_record_id", "captures", ["warc_record_id"])
    op.create_index("ix_reports_site_column", "reports", ["site", "column"])


def downgrade() -> None:
    op.drop_index("ix_reports_site_column", table_name="reports")
    op.drop_index("ix_captures_warc_record_id", table_name="captures")
