"""Ticket numbers: date-based, human-friendly, unique under concurrency."""
from __future__ import annotations

import re
import threading

from intake.extensions import db
from intake.models import utcnow
from intake.tickets import next_ticket_number


def test_numbers_are_date_system_id_and_a_daily_counter(app):
    first = next_ticket_number(db.session, "10")
    second = next_ticket_number(db.session, "10")
    db.session.commit()
    today = utcnow().strftime("%Y%m%d")
    assert re.fullmatch(today + r"10\d{6}", first)
    assert int(second[-6:]) == int(first[-6:]) + 1


def test_numbers_stay_unique_when_many_sessions_draw_at_once(app):
    numbers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def draw():
        with app.app_context():
            try:
                start.wait()
                for _ in range(25):
                    numbers.append(next_ticket_number(db.session, "10"))
                    db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(numbers) == 200 and len(set(numbers)) == 200
