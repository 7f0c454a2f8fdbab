"""The report's charts and printable file show what a reader may see and nothing more: a
suppressed count draws no bar, leaves no number, and the PDF prints Swedish text and "<5"."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from referral.reports.charts import PLACEHOLDER_WIDTH, bar_chart, grouped_bar_chart
from referral.reports.document import Cell, Document, Figure, Mark, Row, Section, Table
from referral.reports.pdf import pdf_text, render_pdf

SVG = "{http://www.w3.org/2000/svg}"
WHEN = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


def shown(value: int) -> Cell:
    return Cell(Mark.SHOWN, value)


SMALL = Cell(Mark.SMALL)
HIDDEN = Cell(Mark.HIDDEN)


def published(count: int, *, hide: bool = False) -> Cell:
    """A count as suppression publishes it: 1 to 4 as "<5", a count hidden to protect a small
    one as a dash, the rest as they are."""
    if hide:
        return HIDDEN
    return SMALL if 1 <= count <= 4 else shown(count)


def status_table(*, hidden_count: int = 7, small_count: int = 3) -> Table:
    return Table(
        key="referrals_by_status_gender",
        title="Remisser per status och kön",
        row_heading="Status",
        columns=("Flickor", "Pojkar", "Totalt"),
        rows=(
            Row("Mottagna", (shown(12), shown(30), shown(42))),
            Row(
                "Pågående",
                (published(small_count), published(hidden_count, hide=True), shown(19)),
            ),
            Row("Avslutade", (shown(6), shown(0), shown(6))),
            Row("Nekade", (SMALL, HIDDEN, HIDDEN)),
            Row("Totalt", (shown(41), shown(52), shown(93)), total=True),
        ),
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own markup, parsed to read it back


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter(f"{SVG}text")]


# --- the SVG charts -------------------------------------------------------------------------


def test_the_chart_is_an_image_named_by_its_title_and_described() -> None:
    root = parse(bar_chart(status_table(), label="Remisser per status"))
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == "Remisser per status"
    assert root.get("aria-labelledby") == title.get("id")
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text is not None
    assert "Mottagna 42" in desc.text
    assert "Nekade –" in desc.text
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.get("width") is None  # it takes the width of the page it is on


def test_the_chart_draws_the_total_column_for_every_row_but_the_total_row() -> None:
    root = parse(bar_chart(status_table(), label="Remisser"))
    assert [e.text for e in by_class(root, "chart-label")] == [
        "Mottagna",
        "Pågående",
        "Avslutade",
        "Nekade",
    ]
    assert [e.text for e in by_class(root, "chart-value")] == ["42", "19", "6"]
    assert "93" not in texts(root)


def test_bars_are_as_long_as_their_counts_and_the_largest_fills_the_scale() -> None:
    root = parse(bar_chart(status_table(), label="Remisser"))
    widths = [float(e.get("width", "")) for e in by_class(root, "chart-bar")]
    assert len(widths) == 3
    assert widths[0] / widths[2] == pytest.approx(42 / 6, rel=1e-3)
    assert widths[1] / widths[2] == pytest.approx(19 / 6, rel=1e-3)


def test_a_small_cell_draws_no_bar_but_an_outline_of_fixed_width_saying_under_five() -> None:
    root = parse(bar_chart(status_table(), column=0, label="Flickor per status"))
    # Flickor: 12, <5, 6, <5 → two bars; each "<5" an outline and its marker at the axis.
    assert len(by_class(root, "chart-bar")) == 2
    assert [e.text for e in by_class(root, "chart-marker")] == ["<5", "<5"]
    outlines = by_class(root, "chart-suppressed")
    assert [o.get("width") for o in outlines] == [str(PLACEHOLDER_WIDTH)] * 2
    assert all(o.get("fill") == "none" for o in outlines)


def test_a_hidden_cell_draws_no_bar_and_says_dash() -> None:
    root = parse(bar_chart(status_table(), column=1, label="Pojkar per status"))
    # Pojkar: 30, hidden, 0, hidden: one bar (a zero draws none) and two dashes.
    assert len(by_class(root, "chart-bar")) == 1
    assert [e.text for e in by_class(root, "chart-marker")] == ["–", "–"]
    assert [e.text for e in by_class(root, "chart-value")] == ["30", "0"]


def test_what_a_suppressed_count_really_was_cannot_change_the_chart() -> None:
    one = status_table(hidden_count=5, small_count=1)
    other = status_table(hidden_count=250, small_count=4)
    assert one == other  # suppression publishes the same cells…
    for column in (0, 1, -1):
        assert bar_chart(one, column=column, label="x") == bar_chart(
            other, column=column, label="x"
        )  # …so the charts are the same bytes
    assert grouped_bar_chart(one, label="x") == grouped_bar_chart(other, label="x")


def test_a_value_left_in_a_suppressed_cell_by_mistake_still_never_reaches_the_chart() -> None:
    def table(small: int, hidden: int) -> Table:
        return Table(
            key="t",
            title="t",
            row_heading="Status",
            columns=("Flickor", "Pojkar", "Totalt"),
            rows=(
                Row("Mottagna", (shown(12), shown(30), shown(42))),
                Row("Pågående", (Cell(Mark.SMALL, small), Cell(Mark.HIDDEN, hidden), shown(19))),
            ),
        )

    assert grouped_bar_chart(table(1, 9), label="x") == grouped_bar_chart(table(4, 999), label="x")
    assert "999" not in grouped_bar_chart(table(4, 999), label="x")


def test_the_only_numbers_a_reader_can_read_are_shown_counts() -> None:
    table = status_table()
    shown_values = {
        str(cell.value) for row in table.rows for cell in row.cells if cell.mark is Mark.SHOWN
    }
    for svg in (bar_chart(table, column=0, label="x"), grouped_bar_chart(table, label="x")):
        root = parse(svg)
        readable = " ".join([*texts(root), root.findtext(f"{SVG}desc") or ""])
        assert set(re.findall(r"\d+", readable.replace("<5", ""))) <= shown_values
        # No attribute can carry a count: only drawing and accessibility attributes exist.
        attributes = {name for element in root.iter() for name in element.attrib}
        assert attributes <= {
            "viewBox",
            "role",
            "aria-labelledby",
            "aria-describedby",
            "font-family",
            "font-size",
            "id",
            "class",
            "x",
            "y",
            "x1",
            "y1",
            "x2",
            "y2",
            "width",
            "height",
            "fill",
            "stroke",
            "stroke-width",
            "stroke-dasharray",
        }


def test_the_chart_keeps_to_a_strict_content_security_policy() -> None:
    for svg in (bar_chart(status_table(), label="x"), grouped_bar_chart(status_table(), label="x")):
        assert "style=" not in svg
        assert "<style" not in svg
        assert "<script" not in svg
        assert not re.search(r"\son\w+=", svg)
        assert "url(" not in svg and "href" not in svg


@pytest.mark.asvs("V1.2.1")
def test_labels_are_escaped() -> None:
    table = Table(
        key="t",
        title="t",
        row_heading="Ålder <12 & unga",
        columns=('"Flickor" & <b>', "Totalt"),
        rows=(Row("Barn <12 & unga", (shown(3), shown(3))),),
    )
    for svg in (
        bar_chart(table, label="Barn <script> & unga"),
        grouped_bar_chart(table, label="Barn <script> & unga"),
    ):
        assert "<12" not in svg and "<script" not in svg and "<b>" not in svg
        assert "Barn &lt;12 &amp; unga" in svg
        root = parse(svg)  # still well-formed
        assert root.findtext(f"{SVG}title") == "Barn <script> & unga"
        assert "Barn <12 & unga" in texts(root)


@pytest.mark.parametrize(
    "cells",
    [
        ((shown(0), shown(0)), (shown(0), shown(0))),
        ((SMALL, HIDDEN), (HIDDEN, SMALL)),
    ],
    ids=["all zero", "all suppressed"],
)
def test_a_table_with_nothing_to_scale_by_still_draws(cells: tuple[tuple[Cell, ...], ...]) -> None:
    table = Table(
        key="t",
        title="t",
        row_heading="Status",
        columns=("Flickor", "Totalt"),
        rows=tuple(Row(f"Rad {i}", row) for i, row in enumerate(cells)),
    )
    for svg in (bar_chart(table, label="x"), grouped_bar_chart(table, label="x")):
        root = parse(svg)
        assert by_class(root, "chart-bar") == []
        assert len(by_class(root, "chart-label")) == 2


def test_a_table_without_rows_draws_an_empty_chart() -> None:
    table = Table(key="t", title="t", row_heading="Status", columns=("Totalt",), rows=())
    assert parse(bar_chart(table, label="Inga remisser")).findtext(f"{SVG}title") == (
        "Inga remisser"
    )


def test_a_column_that_does_not_exist_is_refused() -> None:
    with pytest.raises(IndexError):
        bar_chart(status_table(), column=3, label="x")


def test_the_grouped_chart_draws_one_bar_per_column_with_a_legend() -> None:
    root = parse(grouped_bar_chart(status_table(), label="Remisser per kön"))
    legend = by_class(root, "chart-legend")[0]
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["Flickor", "Pojkar"]
    bars = by_class(root, "chart-bar")
    # Flickor 12, <5, 6, <5 and Pojkar 30, hidden, 0, hidden: three bars in two colours.
    assert [b.get("class") for b in bars] == [
        "chart-bar chart-series-0",
        "chart-bar chart-series-1",
        "chart-bar chart-series-0",
    ]
    assert bars[0].get("fill") != bars[1].get("fill")
    assert [e.text for e in by_class(root, "chart-marker")] == ["<5", "–", "<5", "–"]
    assert "42" not in texts(root)  # the total column is not drawn


def test_two_charts_of_one_page_do_not_share_an_id() -> None:
    table = status_table()
    ids = [
        e.get("id")
        for svg in (
            bar_chart(table, label="x"),
            bar_chart(table, column=0, label="x"),
            grouped_bar_chart(table, label="x"),
        )
        for e in parse(svg).iter()
        if e.get("id")
    ]
    assert len(ids) == len(set(ids)) == 6


# --- the PDF --------------------------------------------------------------------------------


def document(rows: int = 4) -> Document:
    table = status_table()
    if rows > 4:
        body = tuple(
            Row(f"Stadsdel {i} – Södermalm", (shown(i + 5), SMALL, HIDDEN)) for i in range(rows)
        )
        table = Table(
            key="by_district",
            title="Remisser per stadsdel",
            row_heading="Stadsdelsområde",
            columns=table.columns,
            rows=(*body, Row("Totalt", (shown(999), shown(20), shown(1019)), total=True)),
        )
    return Document(
        title="Styrgruppsrapport: remisser och samtycken",
        subtitle="Partnerskapet Söderort, januari–juni 2026",
        produced="Skapad 1 juli 2026 av förvaltningens analytiker",
        sections=(
            Section(
                key="overview",
                title="Översikt",
                figures=(
                    Figure("median_days", "Median dagar till första kontakt", "4,5"),
                    Figure("consent_rate", "Andel med samtycke", "<5"),
                ),
                tables=(table,),
            ),
        ),
        notes=("<5 betyder 1–4 personer.", "– betyder dolt för att skydda ett litet antal."),
    )


def pages(pdf: bytes) -> list[list[tuple[str, str]]]:
    """Each page's text, as (font, text) for every string drawn, in order: read from an
    uncompressed file's content streams and font objects."""
    objects = {
        int(number): body
        for number, body in re.findall(rb"(\d+) 0 obj\n(.*?)\nendobj", pdf, flags=re.S)
    }

    def ref(body: bytes, key: bytes) -> int:
        found = re.search(rb"/" + key + rb" (\d+) 0 R", body)
        assert found is not None
        return int(found.group(1))

    kids = re.search(rb"/Kids \[([^\]]*)\]", pdf)
    assert kids is not None
    result = []
    for page in (int(n) for n in re.findall(rb"(\d+) 0 R", kids.group(1))):
        resources = objects[ref(objects[page], b"Resources")]
        fonts = {
            name.decode(): re.search(rb"/BaseFont /(\S+)", objects[int(obj)]).group(1).decode()  # type: ignore[union-attr]
            for name, obj in re.findall(rb"/(F\d+) (\d+) 0 R", resources)
        }
        stream = objects[ref(objects[page], b"Contents")]
        drawn: list[tuple[str, str]] = []
        font = ""
        for block in re.findall(rb"BT (.*?) ET", stream, flags=re.S):  # one text object
            strings = []
            for op in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:[^\\)]|\\.)*)\) Tj", block):
                if op.group(1):
                    font = fonts[op.group(1).decode()]
                else:
                    strings.append(re.sub(rb"\\(.)", rb"\1", op.group(2)).decode("cp1252"))
            if strings:
                drawn.append((font, "".join(strings)))
        result.append(drawn)
    return result


def words(page: list[tuple[str, str]]) -> list[str]:
    return [text for _, text in page]


def test_the_pdf_is_a_pdf_with_the_reports_title_in_its_metadata() -> None:
    pdf = render_pdf(document(), creation_date=WHEN)
    assert pdf.startswith(b"%PDF-")
    assert b"/CreationDate (D:20260701093000Z)" in pdf
    assert b"/Author" not in pdf
    assert b"/Title (Styrgruppsrapport: remisser och samtycken)" in pdf
    swedish = render_pdf(replace(document(), title="Översikt"), creation_date=WHEN)
    assert b"/Title <feff" + "Översikt".encode("utf-16-be").hex().encode() + b">" in swedish


def test_the_pdf_prints_the_swedish_text_small_cells_and_dashes() -> None:
    [page] = pages(render_pdf(document(), creation_date=WHEN, compress=False))
    text = words(page)
    assert text[:3] == [
        "Styrgruppsrapport: remisser och samtycken",
        "Partnerskapet Söderort, januari–juni 2026",
        "Skapad 1 juli 2026 av förvaltningens analytiker",
    ]
    assert "Översikt" in text
    assert "Remisser per status och kön" in text
    assert text.count("<5") == 3  # two cells and a figure
    assert text.count("–") == 3  # drawn as the en dash, not a hyphen or "?"
    assert "Pågående" in text
    assert text[-3:] == [
        "<5 betyder 1–4 personer.",
        "– betyder dolt för att skydda ett litet antal.",
        "1 / 1",
    ]


def test_the_figures_are_printed_as_label_and_value() -> None:
    text = words(pages(render_pdf(document(), creation_date=WHEN, compress=False))[0])
    at = text.index("Median dagar till första kontakt")
    assert text[at : at + 4] == [
        "Median dagar till första kontakt",
        "4,5",
        "Andel med samtycke",
        "<5",
    ]


def test_a_long_table_flows_onto_a_second_page_with_its_heading_repeated() -> None:
    first, second = pages(render_pdf(document(rows=60), creation_date=WHEN, compress=False))
    heading = ["Stadsdelsområde", "Flickor", "Pojkar", "Totalt"]
    for page in (first, second):
        at = words(page).index("Stadsdelsområde")
        assert words(page)[at : at + 4] == heading
        assert {font for font, _ in page[at : at + 4]} == {"Helvetica-Bold"}
    assert "Stadsdel 0 – Södermalm" in words(first)
    assert "Stadsdel 59 – Södermalm" in words(second)
    assert words(first)[-1] == "1 / 2"
    assert words(second)[-1] == "2 / 2"


def test_the_total_row_is_bold_and_the_others_are_not() -> None:
    [page] = pages(render_pdf(document(), creation_date=WHEN, compress=False))
    fonts: dict[str, str] = {}
    for font, text in page:
        fonts.setdefault(text, font)  # the first time each text is drawn
    assert fonts["Mottagna"] == "Helvetica"
    assert fonts["93"] == "Helvetica-Bold"
    row = words(page)
    total = max(i for i, text in enumerate(row) if text == "Totalt")
    assert row[total : total + 4] == ["Totalt", "41", "52", "93"]
    assert {font for font, _ in page[total : total + 4]} == {"Helvetica-Bold"}


def test_numbers_are_right_aligned() -> None:
    pdf = render_pdf(document(), creation_date=WHEN, compress=False)
    # The right edge of each count in the total column: where it starts plus its width.
    starts = {
        text.decode(): float(x)
        for x, text in re.findall(rb"BT ([\d.]+) [\d.]+ Td (?:[\d.]+ g )?\((42|19|6)\) Tj", pdf)
    }
    digit = 9.5 * 0.556  # Helvetica's digits are 556/1000 em wide, at 9.5 pt
    ends = [starts["42"] + 2 * digit, starts["19"] + 2 * digit, starts["6"] + digit]
    assert max(ends) - min(ends) == pytest.approx(0, abs=0.05)


def test_the_same_document_gives_the_same_file() -> None:
    assert render_pdf(document(), creation_date=WHEN) == render_pdf(document(), creation_date=WHEN)


def test_characters_outside_the_core_fonts_are_replaced_never_dropped_silently() -> None:
    assert pdf_text("Åsa, Örjan & Émile – <5") == "Åsa, Örjan & Émile – <5"
    assert pdf_text("≤ 5 − 2 → 3") == "<= 5 – 2 -> 3"
    assert pdf_text("Dőry 1\u202f000") == "Dory 1\u00a0000"
    assert pdf_text("ok 🙂") == "ok ?"


def test_a_document_with_unusual_characters_still_prints() -> None:
    odd = Document(
        title="Rapport ≤ 2026 🙂",
        subtitle="Łódź – Malmö",
        produced="Skapad",
        sections=(Section(key="s", title="Ω", figures=(Figure("f", "Andel", "≈ 3 %"),)),),
    )
    text = words(pages(render_pdf(odd, creation_date=WHEN, compress=False))[0])
    assert text[:2] == ["Rapport <= 2026 ?", "Lódz – Malmö"]
    assert "~ 3 %" in text
