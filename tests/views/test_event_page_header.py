"""The head shared by an organizer's pages about one event (registrations, certificates,
the attendance dashboard): the way back, the event's title (escaped, cut to half the line),
and the section's tabs with the page the organizer is on marked; the admins' report
pages use the same tabs (``_macros/nav.html``)."""

import re
from pathlib import Path

import pytest
from flask import url_for

from workshop.models import Role

TITLE = 'Workshop <Inovasi> & "Layanan" Publik'
SECTIONS = {
    "organizer_registrations": ["index", "new", "import_upload", "mail"],
    "certificates": ["index", "settings", "download"],
}


@pytest.fixture
def organizer_event(app, login, make_user, make_event):
    organizer = make_user(Role.ORGANIZER)
    event = make_event(owner=organizer, title=TITLE, venue="Aula <Pangripta>")
    login(organizer)
    return event


def _urls(app, endpoints, event_id):
    with app.test_request_context():
        return {endpoint: url_for(endpoint, event_id=event_id) for endpoint in endpoints}


def _crumbs(html: str) -> str:
    match = re.search(r'<nav aria-label="Remah roti"[^>]*>(.*?)</nav>', html, re.S)
    assert match, "no breadcrumb"
    return match.group(1)


@pytest.mark.parametrize("section", SECTIONS)
def test_each_page_of_a_section_marks_its_own_tab(app, client, organizer_event, section):
    urls = _urls(app, [f"{section}.{name}" for name in SECTIONS[section]], organizer_event.id)
    with app.test_request_context():
        back = url_for("organizer.events")
        event_page = url_for("public.event_detail", event_id=organizer_event.id)
    for endpoint, url in urls.items():
        html = client.get(url).get_data(as_text=True)
        marked = re.findall(
            r'<a class="nav-link[^"]*active"\s+aria-current="page"\s+href="([^"]+)"', html
        )
        assert marked == [url], (endpoint, marked)
        # every tab of the section is there, whichever page is open
        for other in urls.values():
            assert f'href="{other}"' in html, (endpoint, other)
        crumbs = _crumbs(html)
        assert f'href="{back}"' in crumbs and f'href="{event_page}"' in crumbs
        assert "Workshop &lt;Inovasi&gt; &amp; &#34;Layanan&#34; Publik" in crumbs
        assert TITLE not in html  # never unescaped
        assert 'class="breadcrumb-item text-truncate crumb-event"' in crumbs


def test_the_dashboard_has_the_same_head_without_tabs_and_not_in_print(
    app, client, organizer_event
):
    url = _urls(app, ["reports.dashboard"], organizer_event.id)["reports.dashboard"]
    html = client.get(url).get_data(as_text=True)
    assert '<nav aria-label="Remah roti" class="d-print-none">' in html
    assert 'aria-current="page">Dasbor kehadiran</li>' in _crumbs(html)
    assert "nav-pills" not in html
    assert "Aula &lt;Pangripta&gt;" in html  # the venue, in the line under the title


def test_the_crumb_class_is_styled_on_every_page():
    """The title's crumb is capped by a class of the stylesheet every page loads (the
    registrations' used Bootstrap's "mw-50", which Bootstrap does not have)."""
    css = (Path(__file__).parents[2] / "static/css/app.css").read_text()
    assert re.search(r"\.crumb-event\s*\{\s*max-width:\s*50%;", css)


def test_the_admins_report_pages_share_the_same_tabs_not_printed(app, client, login, make_user):
    login(make_user(Role.ADMIN))
    with app.test_request_context():
        urls = {name: url_for(f"reports.{name}") for name in ("units", "jp_people", "jp_unit")}
    for name, url in urls.items():
        html = client.get(url).get_data(as_text=True)
        bar = re.search(r'<ul class="nav nav-pills[^"]*">(.*?)</ul>', html, re.S)
        assert bar and "d-print-none" in bar.group(0), name
        marked = re.findall(
            r'<a class="nav-link[^"]*active"\s+aria-current="page"\s+href="([^"]+)"', bar.group(1)
        )
        assert marked == [url], (name, marked)
        assert all(f'href="{other}"' in bar.group(1) for other in urls.values()), name
