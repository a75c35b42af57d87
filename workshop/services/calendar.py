"""Calendar files (iCalendar, RFC 5545): one event's .ics, the feed of public events, and
the .ics attached to the mails that confirm a place.

Times are written with TZID=Asia/Jakarta and a VTIMEZONE, so every calendar shows them
in WIB whatever the reader's zone. A multi-day event with the same hours each day becomes
one entry per day (a workshop of 8-9 March, 08.00-16.00, is not one 32-hour block).
UIDs depend only on the event (and day) and the configured domain, so importing a file
again updates the entry instead of duplicating it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Timezone, TimezoneStandard
from icalendar import Event as VEvent
from sqlalchemy.orm import selectinload

from workshop import clock
from workshop.models import Event, EventStatus, Registration, db
from workshop.services import mail
from workshop.services.tickets import ticket_problem
from workshop.timeutil import WIB, to_wib
from workshop.urls import external_url

TZID = "Asia/Jakarta"
PRODID = "-//Workshop//Kegiatan Pemerintah Daerah//ID"
FEED_STATUSES = (EventStatus.PUBLISHED, EventStatus.FINISHED, EventStatus.CANCELLED)
DESCRIPTION_MAX = 4000


@dataclass
class Entry:
    uid: str
    title: str
    starts_at: datetime  # aware
    ends_at: datetime
    venue: str
    description: str
    url: str
    cancelled: bool
    modified_at: datetime


def _timezone() -> Timezone:
    """Asia/Jakarta has been UTC+7 (WIB) without daylight saving since 1964."""
    tz = Timezone()
    tz.add("tzid", TZID)
    standard = TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))
    standard.add("tzoffsetfrom", timedelta(hours=7))
    standard.add("tzoffsetto", timedelta(hours=7))
    standard.add("tzname", "WIB")
    tz.add_component(standard)
    return tz


def entries(event: Event, *, url: str, domain: str) -> list[Entry]:
    """The calendar entries of ``event``: one per event day when it spans several days with
    the same daily hours, else one from start to end."""
    start, end = to_wib(event.starts_at), to_wib(event.ends_at)
    description = (event.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        description = description[:DESCRIPTION_MAX].rstrip() + "…"
    description = f"{description}\n\n{url}".strip()
    common = {
        "title": event.title,
        "venue": event.venue,
        "description": description,
        "url": url,
        "cancelled": event.status == EventStatus.CANCELLED,
        "modified_at": event.updated_at or event.created_at,
    }
    days = event.day_dates
    if len(days) > 1 and start.time() < end.time():
        return [
            Entry(
                uid=f"event-{event.id}-{day:%Y%m%d}@{domain}",
                starts_at=datetime.combine(day, start.time(), tzinfo=WIB),
                ends_at=datetime.combine(day, end.time(), tzinfo=WIB),
                **common,
            )
            for day in days
        ]
    return [Entry(uid=f"event-{event.id}@{domain}", starts_at=start, ends_at=end, **common)]


def render_ics(items: list[Entry], *, now: datetime, name: str | None = None) -> bytes:
    """A VCALENDAR (METHOD:PUBLISH) with the WIB VTIMEZONE and one VEVENT per entry."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", TZID)
        cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT6H")
    cal.add_component(_timezone())
    stamp = now.astimezone(UTC).replace(microsecond=0)
    for item in items:
        vevent = VEvent()
        vevent.add("uid", item.uid)
        vevent.add("dtstamp", stamp)
        vevent.add("last-modified", item.modified_at.astimezone(UTC).replace(microsecond=0))
        vevent.add("dtstart", to_wib(item.starts_at).replace(microsecond=0))
        vevent.add("dtend", to_wib(item.ends_at).replace(microsecond=0))
        vevent.add("summary", item.title)
        vevent.add("location", item.venue)
        vevent.add("description", item.description)
        vevent.add("url", item.url)
        vevent.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        vevent.add("transp", "OPAQUE")
        cal.add_component(vevent)
    return cal.to_ical()


def feed_events() -> list[Event]:
    """Every public event for the feed (cancelled ones too, so subscribers see that),
    soonest first, with their days (two queries)."""
    return list(
        db.session.scalars(
            db.select(Event)
            .where(Event.status.in_(FEED_STATUSES))
            .options(selectinload(Event.days))
            .order_by(Event.starts_at, Event.id)
        )
    )


def uid_domain() -> str:
    """The domain in UIDs: CALENDAR_UID_DOMAIN, else BASE_URL's host, else 'workshop'.
    Not the request's host, which differs between a LAN address and a name."""
    config = current_app.config
    return (
        config.get("CALENDAR_UID_DOMAIN")
        or urlsplit(config.get("BASE_URL") or "").hostname
        or "workshop"
    )


def ics_filename(event: Event) -> str:
    return f"kegiatan-{event.id}.ics"


# --- the confirmation mail's attachment -----------------------------------------------------


def _mail_attachment(reg: Registration) -> tuple[str, str, bytes] | None:
    """The event's .ics for a registration that holds a place; None otherwise."""
    if ticket_problem(reg) is not None:
        return None
    event = reg.event
    url = external_url("public.event_detail", event_id=event.id)
    data = render_ics(entries(event, url=url, domain=uid_domain()), now=clock.now())
    return ics_filename(event), "text/calendar", data


CALENDAR_MAIL_KINDS = ("registration.confirmed", "registration.promoted")


def register_mail_attachments() -> None:
    """Attach the event's .ics to the mails that confirm a place (idempotent)."""
    mail.ATTACHMENTS["event_ics"] = _mail_attachment
    for kind in CALENDAR_MAIL_KINDS:
        kinds = mail.KIND_ATTACHMENTS.setdefault(kind, [])
        if "event_ics" not in kinds:
            kinds.append("event_ics")
