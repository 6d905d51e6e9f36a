"""Print an evidence page (report.html) to PDF with WeasyPrint.

The page's own CSS sets the paper (`@page { size: A4 }`), so the PDF is what a browser would
print. WeasyPrint needs Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0) and, for the Chinese
text, a CJK font (fonts-wqy-zenhei or fonts-noto-cjk); scripts/provision-test-services.sh
installs them for the tests, docs/deploy.md on a host. `require_pdf` says what is missing
before anything is judged or written.
"""

from __future__ import annotations

import logging
from typing import Any

from orchestrator.errors import InfrastructureError

PANGO_HINT = (
    "WeasyPrint cannot load Pango, which `drctl report` needs to print report.pdf: install "
    "libpango-1.0-0 libpangoft2-1.0-0 and a Chinese font (fonts-wqy-zenhei), see docs/deploy.md"
)


def _weasyprint_html() -> Any:
    """Return WeasyPrint's HTML class (imported late: loading Pango costs every command)."""
    try:
        from weasyprint import HTML
    except OSError as error:  # the Python package is there, the C library is not
        raise InfrastructureError(f"{PANGO_HINT} ({error})") from error
    # WeasyPrint logs font subsetting and CSS meant for browsers (print-color-adjust) below
    # ERROR; keep drctl's output clean.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return HTML


def require_pdf() -> None:
    """Raise InfrastructureError (exit 3) naming the packages to install when WeasyPrint
    cannot print here."""
    _weasyprint_html()


def html_to_pdf(page: str) -> bytes:
    """Given a self-contained HTML page, return it printed as PDF bytes."""
    data = _weasyprint_html()(string=page).write_pdf()
    assert data is not None  # write_pdf returns bytes when no target is given
    return bytes(data)
