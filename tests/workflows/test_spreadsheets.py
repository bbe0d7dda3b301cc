"""Every CSV export: the columns in order, and no cell a spreadsheet would run as a formula."""

from workflows.spreadsheets import csv_text


def test_cells_that_start_a_formula_are_neutralised_and_others_kept() -> None:
    rows = [{"a": "=HYPERLINK(\"http://x\")", "b": 3, "c": "2026-11-19T09:40:00-05:00"},
            {"a": "+1", "b": None, "c": "@SUM(A1)", "ignored": "x"}, {"a": "-2", "b": "plain"}]
    assert csv_text(("a", "b", "c"), rows).splitlines() == [
        "a,b,c", "\"'=HYPERLINK(\"\"http://x\"\")\",3,2026-11-19T09:40:00-05:00", "'+1,,'@SUM(A1)", "'-2,plain,"]
