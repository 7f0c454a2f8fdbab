"""The printable report for the steering group: the same Document as the web page, as an A4
PDF with real tables (headings repeated on every page, numbers right-aligned, the total row in
bold), the notes at the end and "page / pages" in the footer.

The text is set in the PDF's built-in Helvetica, so nothing is downloaded or read from this
machine's disk. Its WinAnsi (Windows-1252) encoding holds Swedish (å ä ö é), the en dash of
a hidden cell and "<5"; the few characters outside it are replaced by a plain equivalent
(`pdf_text`), a last resort being "?", so a report never fails to print over one character.

The bar charts stay on the web page: fpdf2 2.8.9 draws SVG text only in Latin-1 and ignores
`<title>`/`<desc>`, so a chart would need a second, PDF-only variant; the tables carry the
same figures.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from fpdf import FPDF, FontFace, XPos, YPos
from fpdf.enums import TableBordersLayout, TableCellFillMode

from referral.reports.document import Document, Figure, Section, Table

ENCODING = "windows-1252"  # the WinAnsiEncoding fpdf2 declares for the core fonts
FONT = "Helvetica"
MARGIN = 18  # mm
TEXT_GREY = 80  # 0-255: 8:1 on white
HEADING_FILL = (228, 232, 238)
STRIPE_FILL = (246, 247, 249)

# Characters outside Windows-1252 that a report may plausibly hold, by a plain equivalent.
_REPLACEMENTS = str.maketrans(
    {
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "\u2013",  # figure dash
        "\u2212": "\u2013",  # minus sign: Swedish typesets it like the en dash
        "\u2015": "\u2014",  # horizontal bar
        "\u2009": " ",  # thin space
        "\u200a": " ",  # hair space
        "\u202f": "\u00a0",  # narrow no-break space: Babel's Swedish thousands separator
        "\u2007": "\u00a0",  # figure space
        "\u200b": "",  # zero width space
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2260": "!=",
        "\u2192": "->",
        "\u2190": "<-",
        "\u2248": "~",
        "\u2713": "x",
        # Letters without a decomposition to a base letter.
        "\u0141": "L",  # Ł
        "\u0142": "l",  # ł
        "\u0110": "D",  # Đ
        "\u0111": "d",  # đ
        "\u0131": "i",  # dotless i
    }
)


def pdf_text(text: str) -> str:
    """`text` with every character the core fonts can draw: those of Windows-1252 as they are,
    a few others by a plain equivalent (≤ as <=, a minus sign as the en dash), a letter with
    an unusual accent by its base letter (ő → o) and anything else as "?"."""
    out: list[str] = []
    for char in text.translate(_REPLACEMENTS):
        if _encodable(char):
            out.append(char)
            continue
        base = "".join(
            c
            for c in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(c) and _encodable(c)
        )
        out.append(base or "?")
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


class _ReportPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(TEXT_GREY)
        self.cell(0, 6, f"{self.page_no()} / {self.str_alias_nb_pages}", align="C")


def render_pdf(document: Document, *, creation_date: datetime, compress: bool = True) -> bytes:
    """The report as an A4 portrait PDF. `creation_date` goes into the file's metadata (the
    Document carries no date of its own), so the same document and date give the same bytes;
    `compress=False` leaves the page streams readable (for tests)."""
    pdf = _ReportPDF(orientation="portrait", unit="mm", format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_compression(compress)
    pdf.set_title(document.title)  # metadata is UTF-16: no replacement needed
    pdf.set_subject(document.subtitle)
    pdf.set_lang("sv")
    pdf.set_creation_date(creation_date)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_page()

    _paragraph(pdf, document.title, size=18, style="B", height=9)
    _paragraph(pdf, document.subtitle, size=12, height=6)
    pdf.set_text_color(TEXT_GREY)
    _paragraph(pdf, document.produced, size=9, height=5)
    pdf.set_text_color(0)

    for section in document.sections:
        _section(pdf, section)

    if document.notes:
        pdf.ln(4)
        if pdf.will_page_break(12):
            pdf.add_page()
        pdf.set_draw_color(160)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(2)
        for note in document.notes:
            _paragraph(pdf, note, size=9, height=4.5)

    return bytes(pdf.output())


def _section(pdf: FPDF, section: Section) -> None:
    pdf.ln(4)
    if pdf.will_page_break(30):  # keep a section's title with the start of its content
        pdf.add_page()
    _paragraph(pdf, section.title, size=14, style="B", height=8)
    if section.figures:
        _figures(pdf, section.figures)
    for table in section.tables:
        _table(pdf, table)


def _figures(pdf: FPDF, figures: tuple[Figure, ...]) -> None:
    pdf.set_font(FONT, size=10)
    with pdf.table(
        borders_layout=TableBordersLayout.NONE,
        first_row_as_headings=False,
        col_widths=(3, 1),
        text_align=("LEFT", "RIGHT"),
        line_height=5.5,
        padding=(0.5, 1),
    ) as lines:
        for figure in figures:
            lines.row((pdf_text(figure.label), pdf_text(figure.text)))
    pdf.ln(2)


def _table(pdf: FPDF, table: Table) -> None:
    pdf.ln(2)
    if pdf.will_page_break(24):  # keep the table's title with its heading and a row
        pdf.add_page()
    _paragraph(pdf, table.title, size=11, style="B", height=6)
    pdf.set_font(FONT, size=9.5)
    numbers = len(table.columns)
    label_width = 3 if numbers <= 4 else 2
    with pdf.table(
        col_widths=(label_width, *([1] * numbers)),
        text_align=("LEFT", *(["RIGHT"] * numbers)),
        headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
        num_heading_rows=1,
        repeat_headings=1,  # on top of every page
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        cell_fill_color=STRIPE_FILL,
        cell_fill_mode=TableCellFillMode.ROWS,
        line_height=5.5,
    ) as grid:
        grid.row((pdf_text(table.row_heading), *(pdf_text(c) for c in table.columns)))
        for row in table.rows:
            grid.row(
                (pdf_text(row.label), *(pdf_text(cell.text) for cell in row.cells)),
                style=FontFace(emphasis="BOLD") if row.total else None,
            )
    pdf.ln(3)


def _paragraph(pdf: FPDF, text: str, *, size: float, height: float, style: str = "") -> None:
    pdf.set_font(FONT, style=style, size=size)
    pdf.multi_cell(0, height, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
