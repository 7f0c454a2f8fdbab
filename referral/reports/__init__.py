"""Aggregate reports for the steering group (issue 15): the table model, small-cell
suppression, charts and the printable file. Pure: nothing here reads the database or knows
Flask, so what a report shows is decided in one place (services.reports) and rendered here."""
