"""The dependency audit never calls an audit that could not look anything up clean."""

from __future__ import annotations

from tests.assurance.dependency_audit import classify, summary

SKIPPED = "Dependency not found on PyPI and could not be audited: flask (3.1.2)"


def test_an_audit_that_could_look_nothing_up_says_it_was_not_done() -> None:
    report = {
        "dependencies": [
            {"name": "flask", "skip_reason": SKIPPED},
            {"name": "sqlalchemy", "skip_reason": SKIPPED},
        ]
    }
    result = classify(report)
    said = "\n".join(summary(result))
    assert not result.done
    assert "DEPENDENCY AUDIT NOT DONE" in said and "none of the 2 dependencies" in said
    assert "No known vulnerabilities" not in said


def test_a_vulnerable_dependency_is_named_with_its_advisory_and_fix() -> None:
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.2", "vulns": []},
            {
                "name": "jinja2",
                "version": "3.1.2",
                "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}],
            },
        ]
    }
    result = classify(report)
    assert summary(result)[0] == ("VULNERABLE: jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)")
    assert "No known vulnerabilities" not in "\n".join(summary(result))


def test_a_partly_done_audit_lists_what_it_could_not_check_beside_the_clean_ones() -> None:
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.2", "vulns": []},
            {"name": "segno", "skip_reason": SKIPPED},
        ]
    }
    lines = summary(classify(report))
    assert lines == [
        "NOT AUDITED (1 of 2):",
        f"  segno: {SKIPPED}",
        "No known vulnerabilities in the 1 dependency checked.",
    ]
