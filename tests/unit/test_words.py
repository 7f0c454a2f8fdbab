"""Every code the interface shows has words: an action of the access log, its outcome, a
role. A new one without them fails here rather than reaching a page as `child:read`."""

from __future__ import annotations

from datetime import UTC, datetime

from audit.actions import Action, Outcome
from referral.clock import local_text
from referral.roles import Role
from referral.words import ACTION_WORDS, OUTCOME_WORDS, ROLE_WORDS, action_words, role_words


def test_every_action_outcome_and_role_has_words() -> None:
    assert {a.value for a in Action} == set(ACTION_WORDS)
    assert {o.value for o in Outcome} == set(OUTCOME_WORDS)
    assert {r.value for r in Role} == set(ROLE_WORDS)


def test_a_code_this_version_does_not_know_is_shown_as_it_is() -> None:
    assert action_words("retired:action") == "retired:action"
    assert action_words(None) == ""


def test_roles_as_stored_read_as_words_in_order() -> None:
    assert role_words("dpo,admin") == "Administrator, Data protection officer"
    assert role_words(["group_leader"]) == "Group leader"
    assert role_words(None) == ""


def test_an_instant_reads_on_stockholms_clock_in_winter_and_summer() -> None:
    assert local_text("2026-12-01T08:06:55.000000Z") == "2026-12-01 09:06"
    assert local_text(datetime(2027, 7, 1, 22, 30, tzinfo=UTC)) == "2027-07-02 00:30"
    assert local_text(None) == "—"
