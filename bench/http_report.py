"""The whole-request benchmark's table: each workload beside the floor measured in the same
run, as plain text for the terminal and as Markdown for the README."""

from __future__ import annotations

from typing import Any

COLUMNS = ("workload", "req/s", "× floor", "p50 ms", "p99 ms", "errors / non-2xx")


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ") if value >= 100 else f"{value:.1f}"


def _errors(figures: dict[str, Any]) -> str:
    text = str(figures["non_2xx"])
    if figures["server_errors"]:
        text += f" ({figures['server_errors']} 5xx)"
    sockets = sum(figures["socket_errors"].values())
    if sockets:
        text += f" + {sockets} socket"
    if figures["non_2xx"]:
        others = {k: v for k, v in figures["statuses"].items() if not k.startswith("2")}
        text += " " + ", ".join(f"{k}×{v}" for k, v in sorted(others.items()))
    return text


def _failed(figures: dict[str, Any]) -> bool:
    return bool(figures["non_2xx"] or sum(figures["socket_errors"].values()))


def rows(result: dict[str, Any]) -> list[tuple[str, ...]]:
    floor = result["floor"]["requests_per_second"]
    before, after = result["floor"]["before"], result["floor"]["after"]
    table: list[tuple[str, ...]] = [
        (
            "floor: one plain row by id (GET /rows/<id>)",
            _number(floor),
            "1.00",
            f"{before['p50_ms']:.1f}",
            f"{before['p99_ms']:.1f}",
            _errors(before) + ("" if not _failed(after) else f"; after: {_errors(after)}"),
        )
    ]
    for workload in result["workloads"]:
        figures = workload["figures"]
        ratio = figures["requests_per_second"] / floor if floor else 0.0
        table.append(
            (
                workload["label"],
                _number(figures["requests_per_second"]),
                f"{ratio:.2f}",
                f"{figures['p50_ms']:.1f}",
                f"{figures['p99_ms']:.1f}",
                _errors(figures),
            )
        )
    return table


def notes(result: dict[str, Any]) -> list[str]:
    lines = []
    floor = result["floor"]
    lines.append(
        f"floor: {_number(floor['before']['requests_per_second'])} req/s before the service's "
        f"workloads, {_number(floor['after']['requests_per_second'])} after (the ratio uses "
        "their mean)"
    )
    export = result.get("export")
    if export:
        lines.append(
            f"the DPO's export of {_count(export['entries'])} entries (CSV, one request): "
            f"{export['seconds']:.2f} s, {export['megabytes']:.1f} MB"
            + (
                f" (the data set holds {_count(export['entries'])} of the "
                f"{_count(export['expected_entries'])} asked)"
                if export["entries"] < export.get("expected_entries", 0)
                else ""
            )
        )
    verify = result.get("verify")
    if verify:
        lines.append(
            f"`flask audit verify` over {_count(verify['entries'])} entries: "
            f"{verify['seconds']:.1f} s ({_count(verify['entries_per_second'])} entries/s, "
            "the command's start-up included)"
        )
    rss = result.get("peak_rss_mb")
    if rss:
        lines.append(
            "peak RSS per worker (VmHWM): "
            + ", ".join(f"{v:.0f}" for v in rss["after_load"])
            + " MB after the load; "
            + ", ".join(f"{v:.0f}" for v in rss["after_export"])
            + " MB after the export"
        )
    return lines


def _count(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def heading(result: dict[str, Any]) -> str:
    sizes = result["sizes"]
    load = result["load_average"]
    return (
        f"{result['database']}: {_count(sizes['children'])} children, "
        f"{_count(sizes['groups'])} groups, {_count(result['audit_entries_at_start'])} "
        f"access-log entries; {result['connections']} connections, "
        f"{result['duration_seconds']} s each; load average {load['start'][0]:.2f} at the "
        f"start, {load['end'][0]:.2f} at the end"
    )


def text_table(result: dict[str, Any]) -> str:
    table = [COLUMNS, *rows(result)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = [heading(result), ""]
    for number, row in enumerate(table):
        cells = [
            cell.ljust(widths[i]) if i in (0, len(row) - 1) else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.extend(notes(result))
    return "\n".join(lines)


def markdown_table(result: dict[str, Any]) -> str:
    lines = [f"**{heading(result)}**", ""]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * 4 + ["---"]) + "|")
    for row in rows(result):
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.extend(f"- {line}" for line in notes(result))
    return "\n".join(lines)


def growth_table(results: list[dict[str, Any]]) -> str:
    """Requests per second, the ratio to the floor and the p99 of each workload, one column
    per size. The consent write is shown too: it reads before it writes, and it is where
    growth showed (SQLite chose a non-selective index for a lookup as the city grew)."""
    names = [w["label"] for w in results[0]["workloads"]]
    header = ["workload"] + [
        f"{_count(r['sizes']['children'])} children, {_count(r['audit_entries_at_start'])} entries"
        for r in results
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for name in names:
        cells = [name]
        for result in results:
            floor = result["floor"]["requests_per_second"]
            found = next(w for w in result["workloads"] if w["label"] == name)["figures"]
            cells.append(
                f"{_number(found['requests_per_second'])} req/s "
                f"({found['requests_per_second'] / floor:.2f} ×), p99 {found['p99_ms']:.0f} ms"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
