"""Certificate pages: permissions, settings and logo upload, preview, issuing, revoking,
the participant's download, bulk ZIP and print PDF, and the public verification page
(whose QR round trip is read by pdftoppm and zxing-cpp)."""

import io
import re
import zipfile
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from PIL import Image
from pypdf import PdfReader
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.certificate_support import (
    DAY1,
    check_in,
    decode_qr,
    issue_all,
    make_certified,
    needs_pdftoppm,
    pdf_text,
)
from tests.conftest import PASSWORD, wib
from workshop.extensions import db, limiter
from workshop.models import Certificate, CertificateSettings, Role

WINDOWS_BAD = set('<>:"/\\|?*')


@pytest.fixture
def certified(app, make_event, make_user, make_unit, person, register):
    return make_certified(app, make_event, make_user, make_unit, person, register)


def base(certified) -> str:
    return f"/organizer/events/{certified.event.id}/certificates"


def cert_of(app, registration_id):
    with app.app_context():
        cert = db.session.scalar(
            sa.select(Certificate).where(
                Certificate.registration_id == registration_id, Certificate.revoked_at.is_(None)
            )
        )
        if cert is not None:
            db.session.expunge(cert)
        return cert


def png(size=(60, 60), fmt="PNG", mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 40)).save(out, format=fmt)
    return out.getvalue()


# --- permissions --------------------------------------------------------------------

ALLOWED = {
    ("GET", ""): 200,
    ("GET", "/settings"): 200,
    ("POST", "/settings"): 302,
    ("GET", "/preview.pdf"): 200,
    ("GET", "/logo"): 200,
    ("POST", "/issue"): 302,
    ("GET", "/{cert}.pdf"): 200,
    ("GET", "/{cert}/revoke"): 200,
    ("POST", "/reissue/{reg}"): 302,
    ("GET", "/download"): 200,
    ("GET", "/certificates.zip"): 200,
    ("GET", "/print.pdf"): 200,
}
ROLES = {
    "admin": None,
    "owner": None,
    "other_organizer": 404,
    "staff": 403,
    "participant": 403,
    "anonymous": 302,
}
VALID_SETTINGS = {
    "enabled": "y",
    "rule": "all_days",
    "number_format": "{seq}/{prefix}/{unit}/{month}/{year}",
    "number_prefix": "SERT",
    "number_unit": "BAPPEDA",
    "hours": "16",
    "sign_place": "Muara Enim",
    "sign_date": "2030-01-14",
    "signatory_title": "Kepala Bappeda Kabupaten Muara Enim",
    "signatory_name": "Ir. H. Abdul Najib, MM",
    "signatory_rank": "Pembina Utama Muda (IV/c)",
    "signatory_nip": "19650312 199003 1 005",
    "language": "id",
}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize(("method", "route"), list(ALLOWED))
def test_permission_table(app, client, login, make_user, certified, method, route, role):
    issued = issue_all(app, certified.event.id, certified.owner)
    cert_id = issued[certified.eligible[0].id][0]
    roles = {
        "admin": Role.ADMIN,
        "other_organizer": Role.ORGANIZER,
        "staff": Role.STAFF,
        "participant": Role.PARTICIPANT,
    }
    if role == "owner":
        login(certified.owner)
    elif role != "anonymous":
        login(make_user(roles[role]))
    url = base(certified) + route.format(cert=cert_id, reg=certified.eligible[1].id)
    response = client.open(url, method=method, data=VALID_SETTINGS if "settings" in url else {})
    expected = ROLES[role] or ALLOWED[(method, route)]
    assert response.status_code == expected, (method, url, role)
    if role == "anonymous":
        assert "/auth/login" in response.headers["Location"]


def test_unknown_event_and_certificate_of_another_event_are_404(
    app, client, login, certified, make_event
):
    issued = issue_all(app, certified.event.id, certified.owner)
    other = make_event(owner=certified.owner)
    cert_id = next(iter(issued.values()))[0]
    login(certified.owner)
    assert client.get("/organizer/events/99999/certificates").status_code == 404
    assert client.get(f"/organizer/events/{other.id}/certificates/{cert_id}.pdf").status_code == 404
    assert (
        client.get(f"/organizer/events/{other.id}/certificates/{cert_id}/revoke").status_code == 404
    )
    reg_id = certified.eligible[0].id
    assert (
        client.post(f"/organizer/events/{other.id}/certificates/reissue/{reg_id}").status_code
        == 404
    )


# --- settings --------------------------------------------------------------------------


def stored_settings(app, event_id) -> CertificateSettings:
    with app.app_context():
        found = db.session.scalar(
            sa.select(CertificateSettings).where(CertificateSettings.event_id == event_id)
        )
        db.session.expunge(found)
        return found


def test_settings_page_shows_example_number_and_saves(app, client, login, certified):
    login(certified.owner)
    page = client.get(base(certified) + "/settings")
    html = page.get_data(as_text=True)
    assert "001/SERT/BAPPEDA/I/2030" in html  # example from format_number (January: I)
    assert 'data-month="I"' in html and 'data-year="2030"' in html
    data = {
        **VALID_SETTINGS,
        "number_format": "893/{seq}/{unit}/{year}",
        "rule": "min_days",
        "min_days": "1",
        "signatory_name": "Dr. Hj. Siti Aminah, M.Si.",
        "language": "en",
    }
    response = client.post(base(certified) + "/settings", data=data)
    assert response.status_code == 302
    saved = stored_settings(app, certified.event.id)
    assert (saved.number_format, saved.rule, saved.min_days, saved.language) == (
        "893/{seq}/{unit}/{year}",
        "min_days",
        1,
        "en",
    )
    assert saved.signatory_name == "Dr. Hj. Siti Aminah, M.Si."  # titles kept exactly
    assert saved.signatory_nip == "196503121990031005"
    page = client.get(base(certified) + "/settings").get_data(as_text=True)
    assert "893/001/BAPPEDA/2030" in page


def test_first_settings_start_from_the_event(
    app, client, login, make_event, make_user, make_unit, person, register
):
    certified = make_certified(
        app, make_event, make_user, make_unit, person, register, settings=False
    )
    login(certified.owner)
    html = client.get(base(certified) + "/settings").get_data(as_text=True)
    assert 'value="SERT"' in html and 'value="BAPPEDA"' in html  # the unit's short name
    assert 'value="2030-01-14"' in html  # signed on the last day by default
    assert "Sertifikat belum diaktifkan" in client.get(base(certified)).get_data(as_text=True)
    assert "CONTOH" in pdf_text(client.get(base(certified) + "/preview.pdf").data)
    assert client.post(base(certified) + "/settings", data=VALID_SETTINGS).status_code == 302
    saved = stored_settings(app, certified.event.id)
    assert saved.enabled and saved.hours == 16 and saved.next_sequence == 1
    with app.app_context():
        from workshop.models import AuditLog

        assert (
            db.session.scalar(
                sa.select(AuditLog.action).where(AuditLog.action == "certificate.settings")
            )
            == "certificate.settings"
        )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"number_format": "{prefix}/{year}"}, "number_format", "Format nomor harus memuat {seq}."),
        ({"number_format": "{seq}/{secret}"}, "number_format", "Gunakan hanya {seq}"),
        ({"hours": "500"}, "hours", "JP harus antara 1 dan 200"),
        ({"hours": "0"}, "hours", "JP harus antara 1 dan 200"),
        ({"signatory_nip": "12345"}, "signatory_nip", "NIP harus 18 digit"),
        ({"signatory_nip": "196503121990033005"}, "signatory_nip", "jenis kelamin"),
        ({"rule": "min_days", "min_days": "3"}, "min_days", "antara 1 dan 2"),
        ({"signatory_name": ""}, "signatory_name", "Wajib diisi bila sertifikat diaktifkan."),
        ({"sign_date": "kemarin"}, "sign_date", "Tanggal tidak dikenali"),
    ],
)
def test_settings_refusals_keep_input_and_store_nothing(
    app, client, login, certified, changes, field, message
):
    login(certified.owner)
    before = stored_settings(app, certified.event.id)
    data = {**VALID_SETTINGS, "signatory_rank": "Pembina Tingkat I (IV/b)", **changes}
    response = client.post(base(certified) + "/settings", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html
    assert "Pembina Tingkat I (IV/b)" in html  # the typed values stay
    after = stored_settings(app, certified.event.id)
    assert (after.signatory_rank, after.hours) == (before.signatory_rank, before.hours)


def upload(client, certified, content: bytes, filename: str, **extra):
    # Encoded in memory: the test client spools big bodies to a temporary file it never
    # closes (a ResourceWarning, which this suite treats as an error).
    fields = {
        **VALID_SETTINGS,
        **extra,
        "logo": FileStorage(io.BytesIO(content), filename, content_type="image/png"),
    }
    boundary, body = encode_multipart(fields)
    return client.post(
        base(certified) + "/settings",
        data=body,
        content_type=f'multipart/form-data; boundary="{boundary}"',
    )


def test_logo_upload_checked_by_content_and_size(app, client, login, certified):
    login(certified.owner)
    default = client.get(base(certified) + "/logo").data
    gif = io.BytesIO()
    Image.new("RGB", (20, 20)).save(gif, format="GIF")
    refusals = [
        (gif.getvalue(), "logo.gif", "Logo harus berkas PNG atau JPEG."),
        (
            b"ini bukan gambar, hanya teks biasa\n" * 10,
            "logo.png",
            "Logo harus berkas PNG atau JPEG.",
        ),
        (b"\x89PNG\r\n\x1a\n" + b"rusak" * 10, "logo.png", "rusak atau tidak dapat dibaca"),
        (png() + b"\0" * (1024 * 1024), "besar.png", "Logo paling besar 1 MB."),
    ]
    for content, name, message in refusals:
        response = upload(client, certified, content, name)
        assert response.status_code == 422, name
        html = response.get_data(as_text=True)
        assert message in html and 'id="logo-error"' in html
        assert stored_settings(app, certified.event.id).logo is None
    jpeg = png(fmt="JPEG")
    assert upload(client, certified, jpeg, "LOGO.JPG").status_code == 302
    saved = stored_settings(app, certified.event.id)
    assert (saved.logo, saved.logo_type) == (jpeg, "image/jpeg")
    response = client.get(base(certified) + "/logo")
    assert response.data == jpeg and response.mimetype == "image/jpeg"
    # Saving again without a file keeps the logo; "remove" goes back to the default.
    assert client.post(base(certified) + "/settings", data=VALID_SETTINGS).status_code == 302
    assert stored_settings(app, certified.event.id).logo == jpeg
    data = {**VALID_SETTINGS, "remove_logo": "y"}
    assert client.post(base(certified) + "/settings", data=data).status_code == 302
    assert stored_settings(app, certified.event.id).logo is None
    assert client.get(base(certified) + "/logo").data == default


def test_preview_renders_typed_values_without_storing_or_issuing(app, client, login, certified):
    login(certified.owner)
    data = {
        **VALID_SETTINGS,
        "signatory_name": "Drs. Pratinjau Saja, M.M.",
        "hours": "24",
        "logo": (io.BytesIO(png()), "logo.png"),
    }
    response = client.post(
        base(certified) + "/preview.pdf", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Drs. Pratinjau Saja, M.M." in text
    assert "Ir. H. Abdul Najib, MM" in text  # the sample participant
    assert "CONTOH" in text and "24 (dua puluh empat)" in text
    assert "001/SERT/BAPPEDA/I/2030" in text
    assert "Workshop Inovasi Pelayanan Publik" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    saved = stored_settings(app, certified.event.id)
    assert (saved.signatory_name, saved.hours, saved.logo) == ("Ir. H. Abdul Najib, MM", 16, None)
    bad = client.post(base(certified) + "/preview.pdf", data={**VALID_SETTINGS, "hours": "900"})
    assert bad.status_code == 422 and "JP harus antara 1 dan 200" in bad.get_data(as_text=True)
    stored = client.get(base(certified) + "/preview.pdf")
    assert "Ir. H. Abdul Najib, MM" in pdf_text(stored.data)


# --- issuing and revoking ----------------------------------------------------------------


def test_index_counts_standing_and_missing_days(app, client, login, certified):
    login(certified.owner)
    html = client.get(base(certified)).get_data(as_text=True)
    assert 'data-count="eligible"' in html
    assert "Tidak memenuhi syarat" in html
    assert "Senin, 14 Januari 2030" in html  # Citra missed day two
    assert "(3)" in html  # the issue button says how many
    response = client.post(base(certified) + "/issue", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert (
        "3 sertifikat diterbitkan (nomor 001/SERT/BAPPEDA/I/2030 sampai "
        "003/SERT/BAPPEDA/I/2030)" in html
    )
    assert "1 belum atau tidak memenuhi syarat" in html
    with app.app_context():
        rows = db.session.execute(
            sa.select(Certificate.number, Certificate.role).order_by(Certificate.sequence)
        ).all()
    assert [(n.split("/")[0], r) for n, r in rows] == [
        ("001", "participant"),
        ("002", "participant"),
        ("003", "speaker"),
    ]  # by name
    again = client.post(base(certified) + "/issue", follow_redirects=True)
    assert "Tidak ada sertifikat baru yang diterbitkan. 3 sudah terbit" in again.get_data(
        as_text=True
    )
    filtered = client.get(base(certified) + "?standing=not_eligible").get_data(as_text=True)
    assert "Citra Dewi" in filtered and "Alice Rahma" not in filtered


def test_issue_when_switched_off_says_so(
    app, client, login, make_event, make_user, make_unit, person, register
):
    certified = make_certified(
        app, make_event, make_user, make_unit, person, register, settings=False
    )
    login(certified.owner)
    html = client.post(base(certified) + "/issue", follow_redirects=True).get_data(as_text=True)
    assert "Sertifikat belum diaktifkan untuk kegiatan ini." in html


def test_revoke_needs_a_reason_then_reissue_takes_the_next_number(app, client, login, certified):
    issued = issue_all(app, certified.event.id, certified.owner)
    alice = certified.eligible[0]
    cert_id, number, _code = issued[alice.id]
    login(certified.owner)
    url = f"{base(certified)}/{cert_id}/revoke"
    assert number in client.get(url).get_data(as_text=True)
    empty = client.post(url, data={"reason": "  "})
    assert empty.status_code == 422
    assert "Tuliskan alasan pencabutan" in empty.get_data(as_text=True)
    assert cert_of(app, alice.id) is not None
    done = client.post(url, data={"reason": "Salah penulisan nama"}, follow_redirects=True)
    assert f"Sertifikat {number} dicabut" in done.get_data(as_text=True)
    assert cert_of(app, alice.id) is None
    assert client.get(f"{base(certified)}/{cert_id}.pdf").status_code == 404
    html = client.get(base(certified)).get_data(as_text=True)
    assert "Salah penulisan nama" in html and "Terbitkan ulang" in html
    again = client.post(f"{base(certified)}/reissue/{alice.id}", follow_redirects=True)
    assert "diterbitkan dengan nomor 004/SERT/BAPPEDA/I/2030" in again.get_data(as_text=True)
    assert cert_of(app, alice.id).number == "004/SERT/BAPPEDA/I/2030"
    with app.app_context():
        from workshop.models import AuditLog

        actions = db.session.scalars(sa.select(AuditLog.action)).all()
    assert "certificate.revoke" in actions


def test_organizer_downloads_one_certificate(app, client, login, certified):
    issued = issue_all(app, certified.event.id, certified.owner)
    cert_id, number, _code = issued[certified.speaker.id]
    login(certified.owner)
    response = client.get(f"{base(certified)}/{cert_id}.pdf")
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="{number.replace("/", "-")} Elke Rapp.pdf"'
    text = pdf_text(response.data)
    assert "Elke Rapp" in text and "sebagai Narasumber" in text and number in text


# --- the participant ---------------------------------------------------------------------


def manage(client, reg) -> str:
    return client.get(f"/r/{reg.manage_token}").get_data(as_text=True)


def test_manage_page_says_why_not_then_offers_the_download(app, client, certified):
    alice, citra = certified.eligible[0], certified.partial[0]
    assert "belum diterbitkan oleh panitia" in manage(client, alice)
    assert 'id="certificate-link"' not in manage(client, alice)
    html = manage(client, citra)
    assert "tidak memenuhi syarat" in html and "Senin, 14 Januari 2030" in html
    assert client.get(f"/r/{alice.manage_token}/certificate.pdf").status_code == 404
    issue_all(app, certified.event.id, certified.owner)
    html = manage(client, alice)
    assert "Unduh Sertifikat" in html
    response = client.get(f"/r/{alice.manage_token}/certificate.pdf")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Alice Rahma, S.E." in pdf_text(response.data)
    assert client.get(f"/r/{citra.manage_token}/certificate.pdf").status_code == 404
    assert client.get("/r/not-a-real-token/certificate.pdf").status_code == 404


def test_not_finished_lists_the_days_still_to_come(
    app, client, make_event, make_user, make_unit, person, register
):
    certified = make_certified(
        app,
        make_event,
        make_user,
        make_unit,
        person,
        register,
        eligible=(),
        partial=(),
        speaker=None,
        starts_at=wib(2030, 1, 15, 8),
        ends_at=wib(2030, 1, 16, 16),
    )
    reg = register(certified.event, person(name="Dewi")).registration
    from datetime import date

    check_in(app, certified.event.id, [reg.id], [date(2030, 1, 15)], certified.owner)
    html = manage(client, reg)
    assert "Kegiatan belum selesai" in html and "Rabu, 16 Januari 2030" in html


def test_revoked_certificate_is_no_longer_offered(app, client, login, certified):
    issued = issue_all(app, certified.event.id, certified.owner)
    alice = certified.eligible[0]
    login(certified.owner)
    client.post(f"{base(certified)}/{issued[alice.id][0]}/revoke", data={"reason": "Keliru"})
    assert client.get(f"/r/{alice.manage_token}/certificate.pdf").status_code == 404
    assert 'id="certificate-link"' not in manage(client, alice)


def test_my_events_links_only_my_certificate(
    app, client, login, make_user, certified, register, person
):
    user = make_user(Role.PARTICIPANT, email="budi@example.com", name="Budi")
    budi = certified.eligible[1]
    with app.app_context():
        db.session.execute(
            sa.update(type(budi)).where(type(budi).id == budi.id).values(email="budi@example.com")
        )
        db.session.commit()
    issue_all(app, certified.event.id, certified.owner)
    login(user)
    html = client.get("/my/events").get_data(as_text=True)
    assert html.count("data-certificate-link") == 1
    assert f"/r/{budi.manage_token}/certificate.pdf" in html
    assert certified.eligible[0].manage_token not in html


# --- bulk downloads ------------------------------------------------------------------------


def test_zip_has_one_valid_pdf_per_certified_person_only(app, client, login, certified):
    issued = issue_all(app, certified.event.id, certified.owner)
    login(certified.owner)
    response = client.get(base(certified) + "/certificates.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed
    assert response.headers["X-Certificate-Count"] == "3"
    assert int(response.headers["X-Estimated-Size"]) > 0
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = archive.namelist()
    assert len(names) == 3 == len(set(n.casefold() for n in names))
    texts = []
    for name in names:
        assert not WINDOWS_BAD & set(name) and name.isascii() and name.endswith(".pdf")
        reader = PdfReader(io.BytesIO(archive.read(name)))
        assert len(reader.pages) == 1
        texts.append(reader.pages[0].extract_text())
    numbers = sorted(number for _id, number, _code in issued.values())
    assert [n.split(" ")[0] for n in names] == [n.replace("/", "-") for n in numbers]
    joined = "\n".join(texts)
    assert "Alice Rahma, S.E." in joined and "Elke Rapp" in joined
    assert "Citra Dewi" not in joined  # not eligible: no certificate, no file


def test_print_pdf_one_page_per_certificate(app, client, login, certified):
    issue_all(app, certified.event.id, certified.owner)
    login(certified.owner)
    response = client.get(base(certified) + "/print.pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Certificate-Count"] == "3"
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 3
    assert "Budi Santoso" in reader.pages[1].extract_text()


def test_bulk_download_without_certificates_goes_back(app, client, login, certified):
    login(certified.owner)
    response = client.get(base(certified) + "/certificates.zip")
    assert response.status_code == 302
    page = client.get(base(certified) + "/download").get_data(as_text=True)
    assert "Belum ada sertifikat yang terbit" in page


def test_download_page_links_work_without_javascript(app, client, login, certified):
    issue_all(app, certified.event.id, certified.owner)
    login(certified.owner)
    html = client.get(base(certified) + "/download").get_data(as_text=True)
    assert f'href="{base(certified)}/certificates.zip"' in html
    assert f'href="{base(certified)}/print.pdf"' in html
    assert "certificate-download.js" in html


# --- public verification ---------------------------------------------------------------------


@needs_pdftoppm
def test_qr_opens_the_verification_page_valid_then_revoked(app, client, login, certified, tmp_path):
    issued = issue_all(app, certified.event.id, certified.owner)
    alice = certified.eligible[0]
    cert_id, number, code = issued[alice.id]
    pdf = client.get(f"/r/{alice.manage_token}/certificate.pdf").data
    [url] = decode_qr(pdf, tmp_path)
    assert url == f"http://workshop.test/verify/{code}"
    page = client.get(urlsplit(url).path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "SAH" in html and "VALID" in html and 'data-status="valid"' in html
    assert "Alice Rahma, S.E." in html and number in html
    assert "Workshop Inovasi Pelayanan Publik" in html
    assert "13–14 Januari 2030" in html and "13–14 January 2030" in html
    assert "Peserta" in html and "Participant" in html
    with app.app_context():
        reg = db.session.get(type(alice), alice.id)
        private = [reg.email, reg.phone, reg.manage_token, reg.check_in_code]
    assert not any(value and value in html for value in private)
    login(certified.owner)
    client.post(f"{base(certified)}/{cert_id}/revoke", data={"reason": "Tidak hadir"})
    html = client.get(urlsplit(url).path).get_data(as_text=True)
    assert "DICABUT" in html and "REVOKED" in html and 'data-status="revoked"' in html
    assert "Selasa, 15 Januari 2030" in html  # the date it was revoked
    assert "Tidak hadir" not in html  # the reason stays with the organizer


def test_verification_hides_the_nip(app, client, certified, register, person):
    reg = register(
        certified.event,
        person(name="Pegawai Negeri", employment_status="pns", nip="196804111993031009"),
    ).registration
    check_in(app, certified.event.id, [reg.id], [DAY1, DAY1.replace(day=14)], certified.owner)
    issued = issue_all(app, certified.event.id, certified.owner)
    html = client.get(f"/verify/{issued[reg.id][2]}").get_data(as_text=True)
    assert "Pegawai Negeri" in html
    assert "196804111993031009" not in html and "19680411 199303" not in html


def test_unknown_code_is_not_found(client):
    response = client.get("/verify/tidak-ada-kode-ini")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "TIDAK DITEMUKAN" in html and "NOT FOUND" in html
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert client.get("/verify/" + "x" * 300).status_code == 404


def test_verify_form_redirects_to_the_code(client):
    assert "Kode verifikasi" in client.get("/verify").get_data(as_text=True)
    response = client.get("/verify?code=+AbC-123+")
    assert response.status_code == 302 and response.headers["Location"].endswith("/verify/AbC-123")


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "3 per minute"}]
)
def test_verification_is_rate_limited_per_address(app, client):
    with app.app_context():
        limiter.reset()
    statuses = [client.get("/verify/kode-satu").status_code for _ in range(3)]
    assert statuses == [404, 404, 404]
    assert client.get("/verify/kode-dua").status_code == 429
    assert client.get("/api/v1/certificates/verify/kode-tiga").status_code == 429  # shared
    other = client.get("/verify/kode-satu", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 404
    with app.app_context():
        limiter.reset()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_issue_needs_the_csrf_token(app, client, certified):
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    client.post(
        "/auth/login",
        data={"email": certified.owner.email, "password": PASSWORD, "csrf_token": token},
    )
    assert client.post(base(certified) + "/issue").status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    token = csrf_token(client.get(base(certified)).get_data(as_text=True))
    assert client.post(base(certified) + "/issue", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 3
