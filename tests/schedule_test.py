"""Schedules and start dates Airflow would refuse are found by validate (generator/schedule.py)."""

from __future__ import annotations

import pytest

from generator.schedule import date_problem, schedule_problem


@pytest.mark.parametrize("schedule", [
    "@daily", "none", "0 6 * * *", "*/15 * * * *", "0 0 1,15 * *", "30 2 * JAN-MAR mon-fri",
    "0 0 * * 7", "0 0-23/2 * * *", "5 4 31 12 sun",
])
def test_valid_schedules(schedule):
    assert schedule_problem(schedule) is None


@pytest.mark.parametrize(("schedule", "problem"), [
    ("every day at noon please", "'every' is not a valid minute (0-59)"),
    ("60 * * * *", "'60' is not a valid minute (0-59)"),
    ("0 24 * * *", "'24' is not a valid hour (0-23)"),
    ("0 0 0 * *", "'0' is not a valid day of month (1-31)"),
    ("0 0 * 13 *", "'13' is not a valid month (1-12 or JAN-DEC)"),
    ("0 0 * * 8", "'8' is not a valid day of week (0-7 or SUN-SAT)"),
    ("0 0 * * FRY", "'FRY' is not a valid day of week (0-7 or SUN-SAT)"),
    ("*/0 * * * *", "'*/0': the step of the minute field must be at least 1"),
    ("0 10-2 * * *", "'10-2': the hour range runs backwards"),
    ("0 0 L * *", "'L' is not a valid day of month (1-31)"),
    ("0 0 * *", "a cron expression has 5 fields (minute hour day month weekday), not 4"),
    ("0 0 1,,2 * *", "'' is not a valid day of month field (use *, a number, a range a-b or a list, with /step)"),
])
def test_invalid_schedules(schedule, problem):
    assert schedule_problem(schedule) == problem


def test_dates():
    assert date_problem("2024-02-29") is None
    assert date_problem("2024-02-30") == "'2024-02-30' is not a date (day is out of range for month)"
    assert date_problem("2023-02-29") == "'2023-02-29' is not a date (day is out of range for month)"
