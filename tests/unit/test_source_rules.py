"""What the source may not do, read from the source itself (OWASP ASVS 5.0, chapter V1 and
V3.2): no code built from strings at run time, no template built from a string, scripts that
insert text and never HTML, no inline script for data to be spliced into, links built only
by the router or from a fixed scheme, and HTML left unescaped only where a listed reason
says why. A new exception fails here until it is listed with its reason; a listed one that
is gone fails too, so the lists say what the code does.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from flask import Flask, render_template_string

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("referral", "audit", "crypto", "config")
TEMPLATES = ROOT / "referral" / "templates"
SCRIPTS = ROOT / "referral" / "static"


@cache
def _python_files() -> tuple[Path, ...]:
    return tuple(sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")))


@cache
def _templates() -> tuple[Path, ...]:
    return tuple(sorted(TEMPLATES.rglob("*.html")))


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def _script_code(path: Path) -> str:
    """A script without its comments, which may name what the code must not do."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"(?m)^\s*//.*$|\s//[^\n\"']*$", "", text)


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _called_name(call: ast.Call) -> str:
    """`eval` for eval(...), `from_string` for env.from_string(...)."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return ""


# --- code built from strings (V1.3.2) -------------------------------------------------------

# Calls that turn a string into code. `compile` as a bare name only: re.compile is a method.
_DYNAMIC_CODE = frozenset({"eval", "exec", "compile", "__import__"})

# A module imported by a name held in data, and why that name is not the user's.
IMPORTS_BY_NAME: dict[str, str] = {
    "audit/stored_log.py": (
        "the verifier's worker opens its own connection with the DBAPI module the parent "
        "names: 'sqlite3' or 'psycopg', taken from the engine's dialect, never from input"
    ),
}


def _dynamic_code() -> list[str]:
    found = []
    for path in _python_files():
        for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            name = _called_name(call)
            if isinstance(call.func, ast.Name) and name in _DYNAMIC_CODE:
                found.append(f"{_where(path, call.lineno)} {name}()")
            elif name == "import_module" and not (
                call.args and isinstance(call.args[0], ast.Constant)
            ):
                found.append(f"{path.relative_to(ROOT)} import_module(<a name held in data>)")
    return found


@pytest.mark.asvs("V1.3.2")
def test_the_service_runs_no_code_built_from_a_string() -> None:
    found = _dynamic_code()
    listed = {f"{path} import_module(<a name held in data>)" for path in IMPORTS_BY_NAME}
    assert [f for f in found if f not in listed] == [], "code built at run time"
    assert sorted(listed - set(found)) == [], "a listed import by name is gone: unlist it"


@pytest.mark.asvs("V1.3.2")
def test_the_check_for_code_built_from_a_string_finds_one() -> None:
    tree = ast.parse("value = eval(text)\nre.compile(pattern)\n")
    assert [_called_name(c) for c in _calls(tree) if isinstance(c.func, ast.Name)] == ["eval"]


_SCRIPT_CODE_FROM_STRINGS = re.compile(
    r"\beval\s*\(|\bnew\s+Function\b|\bset(?:Timeout|Interval)\s*\(\s*['\"`]|\bimport\s*\("
)


@pytest.mark.asvs("V1.3.2")
def test_the_pages_scripts_run_no_code_built_from_a_string() -> None:
    scripts = sorted(SCRIPTS.rglob("*.js"))
    assert scripts, "the scripts were not found"
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in scripts
        for match in _SCRIPT_CODE_FROM_STRINGS.finditer(_script_code(path))
    ]
    assert found == []


# --- scripts insert text, never HTML (V3.2.2) -----------------------------------------------

_HTML_SINKS = re.compile(
    r"\.(?:innerHTML|outerHTML)\b|\binsertAdjacentHTML\b|\bdocument\.write(?:ln)?\b"
    r"|\bcreateContextualFragment\b|\bDOMParser\b|\bsrcdoc\b"
)


@pytest.mark.asvs("V3.2.2")
def test_the_pages_scripts_insert_text_and_never_html() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted(SCRIPTS.rglob("*.js"))
        for match in _HTML_SINKS.finditer(_script_code(path))
    ]
    assert found == []
    # What a script writes into the page is text: the session warning's time.
    assert ".textContent = " in _script_code(SCRIPTS / "session-timeout.js")


@pytest.mark.asvs("V3.2.2")
def test_the_check_for_html_sinks_finds_one() -> None:
    assert _HTML_SINKS.search('dialog.innerHTML = "<b>" + name;')
    assert _HTML_SINKS.search("el.insertAdjacentHTML('beforeend', x)")
    assert not _HTML_SINKS.search("span.textContent = endsAt;")


# --- no template built from a string (V1.3.7) -----------------------------------------------

_TEMPLATE_FROM_STRING = frozenset(
    {"render_template_string", "stream_template_string", "from_string"}
)


@pytest.mark.asvs("V1.3.7")
def test_no_template_is_built_from_a_string() -> None:
    """Every page is a file under referral/templates, so nothing a user typed can become
    template code. jinja2's Template(...) and Environment(...) would build one too."""
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree):
            if _called_name(call) in _TEMPLATE_FROM_STRING:
                found.append(f"{_where(path, call.lineno)} {_called_name(call)}()")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "jinja2":
                names = {alias.name for alias in node.names}
                found.extend(
                    f"{_where(path, node.lineno)} jinja2.{n}"
                    for n in names & {"Template", "Environment"}
                )
    assert found == []


# --- HTML left unescaped only for a listed reason (V1.1.2) ---------------------------------

# Each `|safe` in a template and each Markup(...) in the code, and why what it marks is HTML
# the service made itself (escaped or built from no input).
UNESCAPED: dict[str, str] = {
    "referral/templates/second_factor.html: qr_svg|safe": (
        "segno's SVG of the enrolment's otpauth URI: made by the service, no input in it"
    ),
    "referral/templates/base.html: ('<span data-session-ends-at>' ~ timing.ends_at ~ "
    "'</span>')|safe": (
        "a time the server formats (HH:MM) in a span of fixed markup, put into a translated "
        "sentence whose own text is escaped"
    ),
    "referral/web/nights/desk.py: Markup(card_numbers.qr_svg(...))": (
        "segno's SVG of a night-place card number (digits the service generated)"
    ),
    "referral/web/locale.py: Markup(...)": (
        "the templates' translations: the catalogue's text is the service's own, and the "
        "variables put into it are escaped by Markup's %, as Jinja's own gettext does"
    ),
    "referral/web/reports.py: Markup(bar_chart(...))": (
        "the report's chart, built by referral/reports with every label escaped "
        "(tests/unit/test_report_rendering.py)"
    ),
}

_SAFE_FILTER = re.compile(
    r"\{\{-?\s*([^{}]*?)\|\s*safe\s*-?\}\}|\{%-?\s*set\s+\w+\s*=\s*(.+?)\|\s*safe\s*-?%\}"
)


def _unescaped() -> set[str]:
    found = set()
    for path in _templates():
        for match in _SAFE_FILTER.finditer(path.read_text(encoding="utf-8")):
            expression = match.group(1) or match.group(2)
            found.add(f"{path.relative_to(ROOT)}: {expression.strip()}|safe")
    for path in _python_files():
        for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            if _called_name(call) == "Markup" and call.args:
                argument = call.args[0]
                shown = (
                    f"{ast.unparse(argument.func)}(...)"
                    if isinstance(argument, ast.Call) and argument.args
                    else "..."
                )
                found.add(f"{path.relative_to(ROOT)}: Markup({shown})")
    return found


@pytest.mark.asvs("V1.1.2")
def test_html_is_left_unescaped_only_where_a_reason_is_listed() -> None:
    found = _unescaped()
    assert sorted(found - set(UNESCAPED)) == [], "unescaped HTML without a listed reason"
    assert sorted(set(UNESCAPED) - found) == [], "a listed exception is gone: unlist it"


@pytest.mark.asvs("V1.1.2", "V1.2.1")
def test_every_page_is_escaped_by_the_template_engine_as_it_is_written(app: Flask) -> None:
    """Escaping happens last, when a value is written into the page, by Jinja itself: every
    .html template autoescapes, and what a user typed reaches the page as text."""
    assert all(app.jinja_env.autoescape(str(p.relative_to(TEMPLATES))) for p in _templates())  # type: ignore[operator]
    with app.test_request_context():
        page = render_template_string("<p>{{ name }}</p>", name='<script>x("1")</script>')
    assert page == "<p>&lt;script&gt;x(&#34;1&#34;)&lt;/script&gt;</p>"
    # A translation is the service's own text; what is put into it is escaped.
    with app.test_request_context("/?lang=en"):
        translated = render_template_string(
            '{{ _("To %(who)s: 100%%", who=who) }} {% trans n=2 %}{{ n }} <i>x</i>{% endtrans %}',
            who="<b>",
        )
    assert translated == "To &lt;b&gt;: 100% 2 <i>x</i>"


# --- no inline script for data to be spliced into (V1.2.3) ----------------------------------

_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)


@pytest.mark.asvs("V1.2.3")
def test_no_page_builds_javascript_around_its_data() -> None:
    """Data reaches the pages' scripts only in data- attributes, which the template engine
    escapes like any attribute: no template holds an inline script, an event-handler
    attribute or a javascript: URL into which a value could be spliced (the content security
    policy would refuse them too; tests/web test it on every kind of answer)."""
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in _templates()
        for pattern in (_INLINE_SCRIPT, _EVENT_HANDLER, _SCRIPT_URL)
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_inline_script_check_finds_one() -> None:
    assert _INLINE_SCRIPT.search("<script>var n = {{ n|tojson }};</script>")
    assert not _INLINE_SCRIPT.search('<script src="/static/a.js" defer></script>')
    assert _EVENT_HANDLER.search('<button onclick="go()">')


# --- links built by the router or from a fixed scheme (V1.2.2) -----------------------------

_URL_ATTRIBUTE = re.compile(r"(?<![\w-])(?:href|action|src|formaction)=\"([^\"]*)\"")

# The URL expressions that are neither url_for(...) nor a fixed start, and where they come
# from: each is a url_for made in the view or a query string urlencode built.
URL_BUILDERS: dict[str, str] = {
    "view.url(": "referral/web/casework.py ChildListView.url: url_for with the list's options",
    "language_link(": "referral/web/locale.py: '?' + urlencode({'lang': code})",
    "link": "nights/result.html's language links: language_link(code) in the view",
    "next_url": "referral/web/dpo.py: url_for('dpo.audit_log', ...) of the next page",
    "item.url": "referral/web/navigation.py: each menu item's url_for",
    "target": "notifications/index.html: a url_for chosen in the template above it",
    "record": "notifications/index.html: url_for of the child's record",
}

# A fixed start: a link within the page, or a phone number after a fixed tel: scheme.
_FIXED_STARTS = ("#", "tel:{{")


def _url_expression(value: str) -> str | None:
    """The expression a URL attribute starts with, or None when it starts with text."""
    match = re.match(r"\{\{\s*([A-Za-z_][\w.]*\(?)", value)
    return match.group(1) if match else None


@pytest.mark.asvs("V1.2.2")
def test_every_link_and_form_address_is_built_by_the_router_or_a_fixed_scheme() -> None:
    """A value a user typed never becomes an address: every href, action and src in the
    templates is url_for(...) (which percent-encodes what it is given), a fixed '#' or tel:
    start, or one of the listed expressions, each made by url_for or urlencode in the code."""
    unknown = []
    used = set()
    for path in _templates():
        for match in _URL_ATTRIBUTE.finditer(path.read_text(encoding="utf-8")):
            value = match.group(1)
            if value.startswith(_FIXED_STARTS):
                continue
            expression = _url_expression(value)
            if expression == "url_for(":
                continue
            if expression in URL_BUILDERS:
                used.add(expression)
                continue
            unknown.append(f"{path.relative_to(ROOT)}: {value}")
    assert unknown == [], "an address not built by url_for or a listed builder"
    assert sorted(set(URL_BUILDERS) - used) == [], "a listed builder is no longer used"


# --- patterns from constants only (V1.2.9) --------------------------------------------------

_REGEX_CALLS = frozenset(
    {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
)
_SQL_MATCH = frozenset({"startswith", "endswith", "contains", "like", "ilike", "not_like"})


def _constant_expression(node: ast.expr) -> bool:
    """A string literal, a module's constant (an upper-case name) or a join of them."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id.lstrip("_").isupper()
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _constant_expression(node.left) and _constant_expression(node.right)
    return False


def _patterns_from_input(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for call in _calls(tree):
        function = call.func
        if not isinstance(function, ast.Attribute) or not call.args:
            continue
        pattern = call.args[0]
        is_regex = (
            isinstance(function.value, ast.Name)
            and function.value.id == "re"
            and function.attr in _REGEX_CALLS
        )
        # A model's column (`ConcernReport.id.startswith(...)`): SQL LIKE, whose % and _ are
        # wildcards unless escaped.
        is_sql_match = (
            function.attr in _SQL_MATCH
            and isinstance(function.value, ast.Attribute)
            and isinstance(function.value.value, ast.Name)
            and function.value.value.id[:1].isupper()
        )
        escaped = any(
            k.arg == "autoescape" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in call.keywords
        )
        if is_regex and not _constant_expression(pattern):
            found.append((call.lineno, f"re.{function.attr}({ast.unparse(pattern)})"))
        elif is_sql_match and not _constant_expression(pattern) and not escaped:
            found.append((call.lineno, f"{ast.unparse(function)}({ast.unparse(pattern)})"))
    return found


@pytest.mark.asvs("V1.2.9")
def test_every_pattern_is_written_in_the_code_or_its_input_escaped() -> None:
    """No regular expression is built from a value (only literals and module constants), and
    a value matched with SQL LIKE has its % and _ escaped (`autoescape=True`): what a user
    types is matched as text, never as a pattern."""
    found = [
        f"{_where(path, line)} {text}"
        for path in _python_files()
        for line, text in _patterns_from_input(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []


def test_the_pattern_check_finds_a_pattern_built_from_input() -> None:
    tree = ast.parse(
        "re.search(f'^{typed}', text)\n"
        "re.compile('[' + _REFUSED + ']')\n"
        "Report.id.startswith(wanted)\n"
        "Report.id.startswith(wanted, autoescape=True)\n"
        "name.startswith(prefix)\n"
    )
    assert [line for line, _text in _patterns_from_input(tree)] == [1, 3]
