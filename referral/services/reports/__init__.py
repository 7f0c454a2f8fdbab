"""Governance reports (issue 15, domain.md §6): the activity report of each partnership (one
programme each) for a half-year or a calendar year, built from data that survives the purge,
counts suppressed so that no child or youth can be singled out."""
