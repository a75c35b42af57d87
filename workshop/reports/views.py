"""Reports: the organizer's event dashboard, daftar hadir PDFs and exports; the admins'
per-unit report and JP recaps; a participant's own JP recap; calendar files.

Organizer pages need an organizer or admin who manages the event (someone else's event
is a 404, another role a 403). Admin pages need an admin. Every file an organizer or
admin downloads is recorded in the audit log.
"""

from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workshop import clock
from workshop.models import Event, Unit, db
from workshop.permissions import admin_required, managed_event_or_404, organizer_required
from workshop.reports import charts, documents
from workshop.reports.forms import PeriodForm, PersonSearchForm, UnitYearForm
from workshop.services import audit, exports, jp_recap, reports
from workshop.services import calendar as calendars
from workshop.services.attendance_pdf import render_attendance_pdf, render_jp_recap_pdf
from workshop.services.errors import ValidationError
from workshop.services.events import can_view
from workshop.services.locking import run_in_write_transaction
from workshop.timeutil import to_wib

bp = Blueprint("reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def helpers():
    return {
        "number": lambda n: format_decimal(n, format="#,##0"),
        "percent": lambda x: format_percent(x, format="#,##0.0%"),
        "five_minutes": timedelta(minutes=reports.BIN_MINUTES),
    }


def _file(data: bytes, content_type: str, filename: str, *, inline: bool = False):
    """A download; ``filename`` is ASCII letters, digits, dots and hyphens only."""
    response = make_response(data)
    response.headers["Content-Type"] = content_type
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _organization() -> str:
    return current_app.config["ORGANIZATION_NAME"]


# --- the organizer's event dashboard -----------------------------------------------------


def _is_live(event: Event) -> bool:
    """Today (WIB) is one of the event's days: the dashboard refreshes itself."""
    return to_wib(clock.now()).date() in event.day_dates


def _charts(report: reports.EventReport) -> dict:
    """The SVG charts of the dashboard, drawn on the server."""
    arrivals = {}
    for day in report.days:
        if not day.arrivals:
            continue
        busiest = max(day.arrivals, key=lambda b: b[1])
        arrivals[day.day_id] = charts.arrivals_chart(
            f"arrivals-{day.day_id}",
            day.arrivals,
            title=_("Kedatangan per 5 menit, %(day)s", day=documents.long_date_id(day.date)),
            desc=_(
                "%(n)d peserta hadir antara pukul %(first)s dan %(last)s WIB; paling ramai "
                "pukul %(busy)s (%(busy_n)d orang).",
                n=day.checked_in,
                first=day.arrivals[0][0].strftime("%H.%M"),
                last=day.arrivals[-1][0].strftime("%H.%M"),
                busy=busiest[0].strftime("%H.%M"),
                busy_n=busiest[1],
            ),
            bar_label=_("%(start)s–%(end)s: %(n)d orang"),
        )
    rows = [
        {
            "label": u.short_name,
            "registered": u.registered,
            "attended": u.attended,
            "quota": u.quota,
        }
        for u in report.units
    ]
    units = (
        charts.units_chart(
            "units-chart",
            rows,
            title=_("Terdaftar dan hadir per unit kerja"),
            desc=_(
                "%(n)d unit kerja/instansi: batang terang = terdaftar, batang gelap = hadir "
                "(paling sedikit satu hari), garis putus-putus = kuota.",
                n=len(rows),
            ),
            legend={"registered": _("Terdaftar"), "attended": _("Hadir"), "quota": _("Kuota")},
        )
        if rows
        else None
    )
    return {"arrivals": arrivals, "units": units}


def _dashboard_context(event: Event) -> dict:
    report = reports.event_report(event)
    today = to_wib(clock.now()).date()
    return {
        "event": event,
        "report": report,
        "charts": _charts(report),
        "started": bool(event.days) and today >= event.days[0].date,
        "updated_at": to_wib(clock.now()).strftime("%H.%M.%S"),
    }


def _audit(action: str, obj, **details) -> None:
    """Record that a report was taken, in a write transaction of its own: these are GET
    requests, whose reads ran in an ordinary transaction that, on SQLite, could not write
    any more once another request (a scan at the door) had committed meanwhile."""
    actor = current_user._get_current_object()
    run_in_write_transaction(lambda: audit.record(actor, action, obj, **details))


@bp.get("/organizer/events/<int:event_id>/dashboard")
@organizer_required
def dashboard(event_id: int):
    event = managed_event_or_404(event_id)
    return render_template(
        "reports/dashboard.html", live=_is_live(event), **_dashboard_context(event)
    )


@bp.get("/organizer/events/<int:event_id>/dashboard.json")
@organizer_required
def dashboard_data(event_id: int):
    """The dashboard's numbers and its re-rendered parts, for the page's live refresh."""
    event = managed_event_or_404(event_id)
    context = _dashboard_context(event)
    parts = {
        name: render_template(f"reports/_dashboard_{name}.html", **context)
        for name in ("summary", "arrivals", "units")
    }
    response = jsonify(
        {
            **reports.report_json(context["report"]),
            "fragments": parts,
            "updated_at": context["updated_at"],
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- daftar hadir and exports --------------------------------------------------------------


@bp.get("/organizer/events/<int:event_id>/attendance.pdf")
@organizer_required
def attendance_pdf(event_id: int):
    """The daftar hadir of one day (?day=YYYY-MM-DD, default the first): who checked in,
    with their time; ?blank=1: every confirmed registration, to sign on paper."""
    event = managed_event_or_404(event_id)
    day = reports.day_of(event, request.args.get("day"))
    if day is None:
        abort(404)
    blank = request.args.get("blank") == "1"
    people = reports.attendance_list(event, day, blank=blank)
    sheet = documents.attendance_sheet(
        event, day, people, blank=blank, organization=_organization()
    )
    data = render_attendance_pdf(sheet)
    _audit("report.attendance_pdf", event, day=day.date.isoformat(), blank=blank, rows=len(people))
    kind = "daftar-hadir-kosong" if blank else "daftar-hadir"
    return _file(
        data, "application/pdf", f"{kind}-{event.id}-{day.date.isoformat()}.pdf", inline=True
    )


@bp.get("/organizer/events/<int:event_id>/export.<any(xlsx, csv):fmt>")
@organizer_required
def export(event_id: int, fmt: str):
    """Every registration with its check-in per day, as XLSX or CSV."""
    event = managed_event_or_404(event_id)
    people = reports.event_people(event)
    days = event.day_dates
    if fmt == "xlsx":
        data = exports.registrations_xlsx(event.title, days, people, creator=_organization())
        content_type = XLSX
    else:
        data = exports.registrations_csv(days, people)
        content_type = "text/csv; charset=utf-8"
    _audit("report.export", event, format=fmt, rows=len(people))
    return _file(data, content_type, f"pendaftar-kegiatan-{event.id}.{fmt}")


# --- admins: work units across events ------------------------------------------------------


def _period(form: PeriodForm) -> tuple[date, date] | None:
    """The chosen period (default: this year); None with the errors on the form."""
    if not request.args.get("from") and not request.args.get("to"):
        year = to_wib(clock.now()).year
        form.start.data, form.end.data = f"{year}-01-01", f"{year}-12-31"
    try:
        return reports.parse_period(form.start.data, form.end.data)
    except ValidationError as exc:
        form.start.errors = exc.fields.get("from", [])
        form.end.errors = exc.fields.get("to", [])
        return None


@bp.get("/admin/reports/units")
@admin_required
def units():
    form = PeriodForm(request.args)
    period = _period(form)
    rows = reports.unit_period_report(*period) if period else []
    return render_template(
        "reports/units.html",
        form=form,
        period=period,
        rows=rows,
        idle=[r for r in rows if r.active and not r.events_registered],
    ), (200 if period else 422)


@bp.get("/admin/reports/units.xlsx")
@admin_required
def units_xlsx():
    form = PeriodForm(request.args)
    period = _period(form)
    if period is None:
        abort(422)
    rows = reports.unit_period_report(*period)
    data = exports.unit_report_xlsx(*period, rows, creator=_organization())
    _audit(
        "report.units_export",
        current_user,
        period_from=period[0].isoformat(),
        period_to=period[1].isoformat(),
    )
    return _file(
        data, XLSX, f"rekap-unit-kerja-{period[0].isoformat()}-{period[1].isoformat()}.xlsx"
    )


# --- JP recaps -------------------------------------------------------------------------------


@bp.get("/my/jp")
@login_required
def my_jp():
    years = jp_recap.recap(jp_recap.user_filter(current_user))
    return render_template(
        "reports/jp_mine.html",
        person=jp_recap.user_ref(current_user),
        years=years,
        target=reports.JP_TARGET,
    )


@bp.get("/my/jp.pdf")
@login_required
def my_jp_pdf():
    years = jp_recap.recap(jp_recap.user_filter(current_user))
    return _recap_pdf(jp_recap.user_ref(current_user), years)


def _recap_pdf(person: jp_recap.PersonRef, years: list[jp_recap.YearRecap]):
    year = request.args.get("year", type=int)
    if year is not None:
        years = [y for y in years if y.year == year]
    sheet = documents.recap_sheet(person, years, organization=_organization(), now=clock.now())
    suffix = f"-{year}" if year else ""
    return _file(render_jp_recap_pdf(sheet), "application/pdf", f"rekap-jp{suffix}.pdf")


@bp.get("/admin/reports/jp")
@admin_required
def jp_people():
    form = PersonSearchForm(request.args)
    people = jp_recap.find_people(form.q.data or "") if form.validate() else []
    return render_template("reports/jp_people.html", form=form, people=people)


def _person_or_404() -> jp_recap.PersonRef:
    nip = (request.args.get("nip") or "").strip()[:18] or None
    email = (request.args.get("email") or "").strip()[:254] or None
    found = jp_recap.person(nip, email) if (nip or email) else None
    if found is None:
        abort(404)
    return found


@bp.get("/admin/reports/jp/person")
@admin_required
def jp_person():
    person = _person_or_404()
    years = jp_recap.recap(jp_recap.person_filter(person.nip, person.email))
    return render_template(
        "reports/jp_person.html", person=person, years=years, target=reports.JP_TARGET
    )


@bp.get("/admin/reports/jp/person.pdf")
@admin_required
def jp_person_pdf():
    person = _person_or_404()
    years = jp_recap.recap(jp_recap.person_filter(person.nip, person.email))
    _audit("report.jp_pdf", current_user, person=person.nip or person.email)
    return _recap_pdf(person, years)


@bp.get("/admin/reports/jp/unit")
@admin_required
def jp_unit():
    all_units = db.session.scalars(db.select(Unit).order_by(Unit.name)).all()
    this_year = to_wib(clock.now()).year
    years = sorted(set(jp_recap.years_with_events()) | {this_year}, reverse=True)
    form = UnitYearForm(request.args, units=all_units, years=years)
    unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data else None
    year = form.year.data or this_year
    form.year.data = year
    rows = jp_recap.unit_year(unit.id, year) if unit is not None else []
    return render_template(
        "reports/jp_unit.html",
        form=form,
        unit=unit,
        year=year,
        rows=rows,
        below=[r for r in rows if r.below_target],
        target=reports.JP_TARGET,
    )


# --- calendar files --------------------------------------------------------------------------


def _ics(data: bytes, filename: str):
    return _file(data, "text/calendar; charset=utf-8", filename)


@bp.get("/events/<int:event_id>/event.ics")
def event_ics(event_id: int):
    """One event for the reader's calendar (drafts only for who manages them)."""
    event = db.session.get(Event, event_id)
    if event is None or not can_view(current_user, event):
        abort(404)
    url = url_for("public.event_detail", event_id=event.id, _external=True)
    data = calendars.render_ics(
        calendars.entries(event, url=url, domain=calendars.uid_domain()), now=clock.now()
    )
    return _ics(data, calendars.ics_filename(event))


@bp.get("/calendar.ics")
def calendar_feed():
    """Every public event: a feed URL calendars subscribe to."""
    domain = calendars.uid_domain()
    items = []
    for event in calendars.feed_events():
        url = url_for("public.event_detail", event_id=event.id, _external=True)
        items += calendars.entries(event, url=url, domain=domain)
    data = calendars.render_ics(
        items, now=clock.now(), name=_("Kegiatan %(org)s", org=_organization())
    )
    response = _ics(data, "kegiatan.ics")
    response.headers["Content-Disposition"] = 'inline; filename="kegiatan.ics"'
    response.headers["Cache-Control"] = "public, max-age=900"
    return response
