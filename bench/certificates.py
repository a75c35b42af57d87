"""Certificate benchmark: the bulk ZIP of 1,000 certificates against a reportlab floor.

    .venv/bin/python bench/certificates.py [--count 1000] [--floor-pages 200]

Builds a throwaway SQLite database with one two-day event, COUNT participants who
attended both days and their issued certificates, then measures, in one run:

- floor: the same page drawn with plain reportlab calls and nothing else (no database, no
  request, no layout logic): fonts registered once, the same logo image, the QR from the
  qrcode package's matrix as one path of rectangles (``pdf.draw_qr``); one PDF per page,
  like the ZIP's files;
- the bulk ZIP through HTTP (Flask test client, streamed; the chunks are counted, not
  kept): certificates per second and the ratio to the floor (goal: within 1.5x);
- the print PDF (all certificates in one document) through HTTP;
- one certificate download through HTTP (the participant's link), average of 20;
- peak memory while the 1,000-certificate ZIP is built (tracemalloc peak of Python
  allocations, and the process's maximum resident size), goal under 250 MB.

Rates are given in CPU time of this process (stable on a busy machine) and wall-clock
time; the ratio is what to compare.
"""

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reportlab.lib.pagesizes import A4, landscape  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from workshop import create_app  # noqa: E402
from workshop.extensions import db  # noqa: E402
from workshop.models import (  # noqa: E402
    CertificateSettings,
    Checkin,
    CheckinMethod,
    Event,
    EventDay,
    Registration,
    RegistrationStatus,
    Role,
    Unit,
    UnitKind,
    User,
)
from workshop.services import certificate_pdf, certificates  # noqa: E402
from workshop.services.pdf import (  # noqa: E402
    SERIF,
    SERIF_BOLD,
    SERIF_ITALIC,
    draw_qr,
    register_fonts,
)

PASSWORD = "bench-password"  # noqa: S105 (a throwaway database)
DAY1, DAY2 = date(2018, 3, 8), date(2018, 3, 9)


def build_app(count: int, workdir: Path):
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "workshop.test",
            "FIXED_NOW": datetime(2018, 3, 10, 3, tzinfo=UTC),
            "MAIL_FILE_DIR": str(workdir / "mail"),
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        unit = Unit(
            name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda", kind=UnitKind.OFFICE
        )
        owner = User(
            email="organisasi@bench.test",
            name="Penyelenggara",
            role=Role.ORGANIZER,
            password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
        )
        db.session.add_all([unit, owner])
        db.session.flush()
        event = Event(
            title="Workshop Inovasi Pelayanan Publik",
            venue="Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim",
            starts_at=datetime(2018, 3, 8, 1, tzinfo=UTC),
            ends_at=datetime(2018, 3, 9, 9, tzinfo=UTC),
            status="finished",
            owner_id=owner.id,
            unit_id=unit.id,
        )
        event.days = [EventDay(date=DAY1), EventDay(date=DAY2)]
        db.session.add(event)
        db.session.flush()
        db.session.add(
            CertificateSettings(
                event_id=event.id,
                enabled=True,
                number_prefix="SERT",
                number_unit="BAPPEDA",
                hours=16,
                sign_place="Muara Enim",
                sign_date=DAY2,
                signatory_name="Ir. H. Abdul Najib, MM",
                signatory_title="Kepala Badan Perencanaan Pembangunan Daerah Kabupaten Muara Enim",
                signatory_rank="Pembina Utama Muda (IV/c)",
                signatory_nip="196503121990031005",
            )
        )
        regs = [
            Registration(
                event_id=event.id,
                name=f"Peserta Nomor {i:04d}, S.E., M.Si.",
                email=f"p{i}@bench.test",
                employment_status="pns",
                nip=f"19800101200501{1 + i % 2}{(i % 999) + 1:03d}",
                position="Analis Kebijakan Ahli Muda",
                unit_id=unit.id,
                status=RegistrationStatus.CONFIRMED,
            )
            for i in range(count)
        ]
        db.session.add_all(regs)
        db.session.flush()
        days = {d.date: d.id for d in event.days}
        db.session.add_all(
            [
                Checkin(
                    registration_id=r.id,
                    event_day_id=days[d],
                    event_id=event.id,
                    scanned_by_id=owner.id,
                    method=CheckinMethod.CAMERA,
                )
                for r in regs
                for d in days
            ]
        )
        db.session.commit()
        started = time.perf_counter()
        result = certificates.issue_certificates(
            event.id, actor=owner, now=datetime(2018, 3, 9, 10, tzinfo=UTC)
        )
        issue_seconds = time.perf_counter() - started
        assert len(result.issued) == count
        token = regs[0].manage_token
        return app, event.id, token, issue_seconds


# --- the floor ------------------------------------------------------------------------


def floor_page(out, logo: ImageReader, n: int) -> None:
    """The same certificate with plain reportlab calls: fixed positions, nothing else."""
    width, height = landscape(A4)
    c = Canvas(out, pagesize=(width, height), pageCompression=1)
    c.setStrokeColorRGB(0.067, 0.306, 0.188)
    c.setLineWidth(5)
    c.rect(18, 18, width - 36, height - 36)
    c.setStrokeColorRGB(0.722, 0.561, 0.133)
    c.setLineWidth(1.2)
    c.rect(27, 27, width - 54, height - 54)
    c.drawImage(logo, width / 2 - 26, height - 102, 52, 60)
    mid = width / 2
    lines = [
        (SERIF_BOLD, 12.5, 477, "PEMERINTAH KABUPATEN MUARA ENIM"),
        (SERIF_BOLD, 11, 462, "BADAN PERENCANAAN PEMBANGUNAN DAERAH"),
        (SERIF_BOLD, 34, 416, "SERTIFIKAT"),
        (SERIF, 11.5, 397, f"Nomor: {n:03d}/SERT/BAPPEDA/III/2018"),
        (SERIF_ITALIC, 12, 372, "diberikan kepada"),
        (SERIF_BOLD, 25, 342, f"Peserta Nomor {n:04d}, S.E., M.Si."),
        (SERIF, 11, 320, "NIP. 19800101 200501 2 001"),
        (SERIF, 11, 305, "Analis Kebijakan Ahli Muda – Badan Perencanaan Pembangunan Daerah"),
        (SERIF, 12, 287, "sebagai Peserta"),
        (SERIF_ITALIC, 11.5, 268, "telah mengikuti"),
        (SERIF_BOLD, 15, 248, "Workshop Inovasi Pelayanan Publik"),
        (
            SERIF,
            11,
            229,
            "yang diselenggarakan oleh Badan Perencanaan Pembangunan Daerah, "
            "Pemerintah Kabupaten Muara Enim",
        ),
        (
            SERIF,
            11,
            214,
            "pada 8–9 Maret 2018 bertempat di Ruang Rapat Pangripta (Nusantara), "
            "Bappeda Kabupaten Muara Enim",
        ),
        (SERIF_BOLD, 11, 198, "selama 16 (enam belas) jam pelajaran (JP)"),
    ]
    for font, size, y, text in lines:
        c.setFont(font, size)
        c.drawCentredString(mid, y, text)
    sign = width - 205
    c.setFont(SERIF, 11)
    for y, text in (
        (176, "Muara Enim, 9 Maret 2018"),
        (162, "Kepala Badan Perencanaan Pembangunan"),
        (148, "Daerah Kabupaten Muara Enim,"),
    ):
        c.drawCentredString(sign, y, text)
    c.setFont(SERIF_BOLD, 11.5)
    c.drawCentredString(sign, 84, "Ir. H. Abdul Najib, MM")
    c.line(sign - 60, 81, sign + 60, 81)
    c.setFont(SERIF, 10.5)
    c.drawCentredString(sign, 70, "Pembina Utama Muda (IV/c)")
    c.drawCentredString(sign, 56, "NIP. 19650312 199003 1 005")
    code = f"floor{n:017d}"
    draw_qr(c, f"http://workshop.test/verify/{code}", 52, 46, 86)  # runs of modules, one path
    c.setFont(SERIF_BOLD, 8.5)
    c.drawString(144, 100, "Pindai untuk verifikasi keaslian")
    c.drawString(144, 76, code)
    c.showPage()
    c.save()


class Timer:
    """Wall-clock and CPU seconds of this process (the test client serves in-process, so
    CPU time counts all the work and little of what other programs on the machine do)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def measure_floor(pages: int) -> Timer:
    register_fonts()
    logo = certificate_pdf.logo_for(None).reader  # the same prepared logo image
    floor_page(io.BytesIO(), logo, 0)  # warm up
    with Timer() as timer:
        for n in range(1, pages + 1):
            floor_page(io.BytesIO(), logo, n)
    return timer


# --- through HTTP -----------------------------------------------------------------------


def logged_in_client(app):
    client = app.test_client()
    response = client.post(
        "/auth/login", data={"email": "organisasi@bench.test", "password": PASSWORD}
    )
    assert response.status_code in (302, 303)
    return client


def consume(response) -> int:
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    return size


def timed_download(client, url: str) -> tuple[Timer, int]:
    with Timer() as timer:
        response = client.get(url, buffered=False)
        assert response.status_code == 200, response.status_code
        size = consume(response)
    return timer, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--floor-pages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"Setting up {args.count} certificates …", flush=True)
        app, event_id, token, issue_seconds = build_app(args.count, Path(tmp))
        client = logged_in_client(app)
        base = f"/organizer/events/{event_id}/certificates"
        timed_download(client, f"/r/{token}/certificate.pdf")  # warm up caches
        floor_before = measure_floor(args.floor_pages)
        zipped, zip_size = timed_download(client, base + "/certificates.zip")
        floor_after = measure_floor(args.floor_pages)
        printed, print_size = timed_download(client, base + "/print.pdf")
        singles = sorted(
            timed_download(client, f"/r/{token}/certificate.pdf")[0].wall for _ in range(20)
        )

        tracemalloc.start()
        consume(client.get(base + "/certificates.zip", buffered=False))
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB -> MB (Linux)

    n, pages = args.count, args.floor_pages
    # The faster floor run is the floor (the conservative choice for the ratio).
    floor_cpu = pages / min(floor_before.cpu, floor_after.cpu)
    floor_wall = pages / min(floor_before.wall, floor_after.wall)
    print(f"\nmachine: {os.cpu_count()} CPU, load average {os.getloadavg()[0]:.1f}")
    print(f"issue_certificates for {n}: {issue_seconds:.2f} s")
    print(
        f"floor (plain reportlab, one PDF per page): {floor_cpu:.1f} pages/s CPU "
        f"({1000 / floor_cpu:.1f} ms a page); wall {floor_wall:.1f} pages/s"
    )
    print(
        f"bulk ZIP of {n} through HTTP: {n / zipped.cpu:.1f} certificates/s CPU "
        f"({zipped.cpu * 1000 / n:.1f} ms each); wall {n / zipped.wall:.1f}/s "
        f"({zipped.wall:.1f} s); {zip_size / 1e6:.1f} MB"
    )
    print(
        f"ratio ZIP / floor: {floor_cpu * zipped.cpu / n:.2f}x CPU, "
        f"{floor_wall * zipped.wall / n:.2f}x wall (goal: within 1.5x)"
    )
    print(
        f"print PDF of {n} through HTTP: {n / printed.cpu:.1f} pages/s CPU, wall "
        f"{printed.wall:.1f} s; {print_size / 1e6:.1f} MB ({print_size / n / 1024:.1f} KB a "
        f"page, one file {zip_size / n / 1024:.1f} KB)"
    )
    print(
        f"one certificate through HTTP: median {singles[len(singles) // 2] * 1000:.1f} ms, "
        f"best {singles[0] * 1000:.1f} ms (wall)"
    )
    print(
        f"peak memory while building the ZIP: {peak / 1e6:.1f} MB traced by tracemalloc; "
        f"process max RSS {maxrss:.0f} MB (goal: under 250 MB)"
    )


if __name__ == "__main__":
    main()
