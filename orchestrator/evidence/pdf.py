"""Print an evidence page (report.html) to PDF with WeasyPrint.

The page's own CSS sets the paper (`@page { size: A4 }`), so the PDF is what a browser would
print. WeasyPrint needs Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0) and, for the Chinese
text, a CJK font (fonts-wqy-zenhei or fonts-noto-cjk); scripts/provision-test-services.sh
installs them.
"""

from __future__ import annotations

import logging


def html_to_pdf(page: str) -> bytes:
    """Given a self-contained HTML page, return it printed as PDF bytes."""
    from weasyprint import HTML  # imported here: loading Pango costs time every command

    # WeasyPrint logs font subsetting and CSS meant for browsers (print-color-adjust) below
    # ERROR; keep drctl's output clean.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    document = HTML(string=page)
    data = document.write_pdf()
    assert data is not None  # write_pdf returns bytes when no target is given
    return bytes(data)
