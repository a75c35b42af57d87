"""Demo data: the regency's work units, demo users and the reference workshop.

``load_demo`` is idempotent: it adds only what is missing, matched by natural keys
(unit short name, user email, event title), so running it twice leaves the same rows.
"""

from datetime import UTC, date, datetime, time, timedelta

from workshop.models import (
    Checkin,
    CheckinMethod,
    Event,
    EventDay,
    EventStaff,
    EventStatus,
    Registration,
    RegistrationStatus,
    Role,
    Unit,
    UnitKind,
    User,
    db,
)
from workshop.services import registration
from workshop.services.events import AgendaInput, EventInput, SpeakerInput, create_event
from workshop.services.registration_input import RegistrationInput
from workshop.timeutil import WIB

DEMO_PASSWORD = "workshop123"

# (email, name, role) — names carry titles exactly as they print.
DEMO_USERS = [
    ("admin@example.com", "Administrator Sistem", Role.ADMIN),
    ("organisasi@example.com", "Rini Oktarina, S.STP., M.Si.", Role.ORGANIZER),
    ("bappeda@example.com", "Ir. H. Abdul Najib, MM", Role.ORGANIZER),
    ("petugas@example.com", "Andi Saputra", Role.STAFF),
    ("peserta@example.com", "Sri Wahyuni, S.E.", Role.PARTICIPANT),
]

S, INSP, A, OFF, H, D = (
    UnitKind.SECRETARIAT,
    UnitKind.INSPECTORATE,
    UnitKind.AGENCY,
    UnitKind.OFFICE,
    UnitKind.HOSPITAL,
    UnitKind.DISTRICT,
)

# The SKPD/OPD list of Kabupaten Muara Enim (see shared/data/muara-enim-units.md).
UNITS = [
    ("Sekretariat Daerah", "Setda", S),
    ("Bagian Organisasi Setda", "Bag. Organisasi", S),
    ("Bagian Humas dan Protokol Setda", "Bag. Humas", S),
    ("Sekretariat DPRD", "Setwan", S),
    ("Inspektorat Daerah", "Inspektorat", INSP),
    ("Badan Perencanaan Pembangunan Daerah", "Bappeda", A),
    ("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", "BKPSDM", A),
    ("Badan Pengelolaan Keuangan dan Aset Daerah", "BPKAD", A),
    ("Badan Pendapatan Daerah", "Bapenda", A),
    ("Badan Penanggulangan Bencana Daerah", "BPBD", A),
    ("Badan Kesatuan Bangsa dan Politik", "Kesbangpol", A),
    ("Dinas Pendidikan", "Disdik", OFF),
    ("Dinas Kesehatan", "Dinkes", OFF),
    ("Dinas Pekerjaan Umum dan Penataan Ruang", "Dinas PUPR", OFF),
    ("Dinas Perumahan dan Kawasan Permukiman", "Disperkim", OFF),
    ("Satuan Polisi Pamong Praja", "Satpol PP", OFF),
    ("Dinas Sosial", "Dinsos", OFF),
    ("Dinas Tenaga Kerja", "Disnaker", OFF),
    ("Dinas Pemberdayaan Perempuan dan Perlindungan Anak", "DP3A", OFF),
    ("Dinas Ketahanan Pangan", "DKP", OFF),
    ("Dinas Lingkungan Hidup", "DLH", OFF),
    ("Dinas Kependudukan dan Pencatatan Sipil", "Disdukcapil", OFF),
    ("Dinas Pemberdayaan Masyarakat dan Desa", "DPMD", OFF),
    ("Dinas Pengendalian Penduduk dan Keluarga Berencana", "Dinas PPKB", OFF),
    ("Dinas Perhubungan", "Dishub", OFF),
    ("Dinas Komunikasi dan Informatika", "Diskominfo", OFF),
    ("Dinas Koperasi dan Usaha Kecil Menengah", "Dinas Koperasi UKM", OFF),
    ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "DPMPTSP", OFF),
    ("Dinas Kepemudaan dan Olahraga", "Dispora", OFF),
    ("Dinas Pariwisata dan Kebudayaan", "Disparbud", OFF),
    ("Dinas Perpustakaan dan Kearsipan", "Dispusip", OFF),
    ("Dinas Perikanan", "Diskan", OFF),
    ("Dinas Pertanian Tanaman Pangan dan Hortikultura", "Distan", OFF),
    ("Dinas Perkebunan", "Disbun", OFF),
    ("Dinas Peternakan", "Disnak", OFF),
    ("Dinas Perindustrian dan Perdagangan", "Disperindag", OFF),
    ("RSUD H.M. Rabain", "RSUD HM Rabain", H),
] + [
    (f"Kecamatan {name}", f"Kec. {name}", D)
    for name in (
        "Semende Darat Laut",
        "Semende Darat Ulu",
        "Semende Darat Tengah",
        "Tanjung Agung",
        "Rambang",
        "Lubai",
        "Lubai Ulu",
        "Lawang Kidul",
        "Muara Enim",
        "Ujan Mas",
        "Gunung Megang",
        "Benakat",
        "Rambang Dangku",
        "Gelumbang",
        "Lembak",
        "Sungai Rotan",
        "Muara Belida",
        "Kelekar",
        "Belimbing",
        "Belida Darat",
    )
]

REFERENCE_TITLE = "Workshop Inovasi Pelayanan Publik"
REFERENCE_VENUE = "Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim"
REFERENCE_DESCRIPTION = (
    "Pengenalan pendamping pelayanan publik (inovasi) di lingkungan Pemerintah Kabupaten "
    "Muara Enim untuk mempercepat reformasi birokrasi. Workshop diselenggarakan oleh "
    "Bagian Organisasi Sekretariat Daerah bersama Bappeda Kabupaten Muara Enim (Kepala "
    "Bappeda: Ir. H. Abdul Najib, MM) dan proyek TRANSFORMASI GIZ, dan dibuka oleh Asisten "
    "Administrasi dan Umum, Ibrahim Iliyas, mewakili Bupati Muara Enim.\n\n"
    "Tujuan: menyiapkan proposal inovasi setiap SKPD untuk Kompetisi Inovasi Pelayanan "
    "Publik (KIPP) tingkat nasional yang diajukan melalui SINOVIK. Kabupaten Muara Enim "
    "menghasilkan sekitar 70 inovasi dan 60 inovator setiap tahun.\n\n"
    "Peserta: aparatur dari seluruh SKPD Kabupaten Muara Enim. Tamu dari Kota Bandung, "
    "Kabupaten Bogor, Kabupaten Purworejo dan kabupaten di Kalimantan turut hadir untuk "
    "belajar dari inovasi Muara Enim."
)
GIZ = "GIZ — Proyek TRANSFORMASI"


def wib(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=WIB)


def database_is_empty() -> bool:
    return db.session.scalar(db.select(Event.id).limit(1)) is None


def load_units() -> int:
    existing = set(db.session.scalars(db.select(Unit.short_name)))
    added = 0
    for name, short_name, kind in UNITS:
        if short_name not in existing:
            db.session.add(Unit(name=name, short_name=short_name, kind=kind))
            added += 1
    db.session.flush()
    return added


def load_users() -> dict[str, User]:
    users = {}
    for email, name, role in DEMO_USERS:
        user = db.session.scalar(db.select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, role=role)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
        users[email] = user
    db.session.flush()
    return users


def unit_id(short_name: str) -> int:
    return db.session.scalar(db.select(Unit.id).where(Unit.short_name == short_name))


def reference_event() -> EventInput:
    day1, day2 = date(2018, 3, 8), date(2018, 3, 9)
    agenda = [
        (day1, 8, 0, "Registrasi peserta", ""),
        (
            day1,
            8,
            30,
            "Pembukaan oleh Asisten Administrasi dan Umum atas nama Bupati Muara Enim",
            "Ibrahim Iliyas",
        ),
        (day1, 9, 0, "Sambutan Kepala Bappeda Kabupaten Muara Enim", "Ir. H. Abdul Najib, MM"),
        (
            day1,
            9,
            30,
            "Pengenalan pendamping pelayanan publik dan proyek TRANSFORMASI",
            "Elke Rapp",
        ),
        (
            day1,
            11,
            0,
            "Inovasi pelayanan publik dan Kompetisi Inovasi Pelayanan Publik (KIPP)",
            "Hertian Silawati",
        ),
        (day1, 13, 30, "Menyusun proposal inovasi melalui SINOVIK", "Dina Limanto"),
        (day2, 8, 30, "Klinik proposal inovasi per SKPD", "Hertian Silawati"),
        (day2, 13, 30, "Presentasi rancangan proposal dan umpan balik", "Dina Limanto"),
        (day2, 15, 30, "Rencana tindak lanjut dan penutupan", "Elke Rapp"),
    ]
    return EventInput(
        title=REFERENCE_TITLE,
        venue=REFERENCE_VENUE,
        description=REFERENCE_DESCRIPTION,
        starts_at=wib(day1, 8, 0),
        ends_at=wib(day2, 16, 0),
        capacity=80,
        unit_quota=3,
        waitlist=True,
        registration_opens_at=wib(date(2018, 2, 26), 8, 0),
        registration_closes_at=wib(date(2018, 3, 7), 16, 0),
        unit_id=unit_id("Bag. Organisasi"),
        speakers=[
            SpeakerInput("Elke Rapp", f"Team Leader, {GIZ}"),
            SpeakerInput("Hertian Silawati", GIZ),
            SpeakerInput("Dina Limanto", GIZ),
        ],
        agenda=[AgendaInput(wib(d, h, m), t, s) for d, h, m, t, s in agenda],
    )


def today_event(today: date) -> EventInput:
    return EventInput(
        title="Bimbingan Teknis Penyusunan Proposal Inovasi (SINOVIK)",
        venue="Ruang Rapat Pangripta, Bappeda Kabupaten Muara Enim",
        description=(
            "Pendampingan penyusunan proposal inovasi pelayanan publik untuk diunggah ke "
            "SINOVIK. Kegiatan berlangsung hari ini: coba pindai tiket peserta di pintu masuk."
        ),
        starts_at=wib(today, 8, 0),
        ends_at=wib(today, 16, 0),
        capacity=60,
        unit_quota=2,
        registration_opens_at=wib(today - timedelta(days=14), 8, 0),
        registration_closes_at=wib(today, 15, 0),
        unit_id=unit_id("Bappeda"),
        speakers=[SpeakerInput("Hertian Silawati", GIZ)],
        agenda=[
            AgendaInput(wib(today, 8, 0), "Registrasi peserta"),
            AgendaInput(wib(today, 8, 30), "Penyusunan proposal inovasi", "Hertian Silawati"),
        ],
    )


def future_event(today: date) -> EventInput:
    start = today + timedelta(days=30)
    return EventInput(
        title="Sosialisasi Kompetisi Inovasi Pelayanan Publik Tingkat Kabupaten",
        venue="Gedung Serba Guna Pemerintah Kabupaten Muara Enim",
        description=(
            "Sosialisasi pedoman kompetisi inovasi pelayanan publik tingkat kabupaten dan "
            "jadwal penjurian bagi seluruh SKPD dan kecamatan."
        ),
        starts_at=wib(start, 8, 30),
        ends_at=wib(start + timedelta(days=1), 15, 30),
        capacity=120,
        unit_quota=4,
        registration_opens_at=wib(today - timedelta(days=1), 8, 0),
        registration_closes_at=wib(start - timedelta(days=1), 16, 0),
        unit_id=unit_id("Bag. Organisasi"),
        speakers=[
            SpeakerInput("Ir. H. Abdul Najib, MM", "Kepala Bappeda Kabupaten Muara Enim"),
            SpeakerInput("Dina Limanto", GIZ),
        ],
        agenda=[
            AgendaInput(wib(start, 8, 30), "Pembukaan"),
            AgendaInput(wib(start, 9, 0), "Pedoman kompetisi inovasi", "Dina Limanto"),
        ],
    )


def load_events(users: dict[str, User], today: date) -> int:
    owner = users["organisasi@example.com"]
    added = 0
    for data, owner_email in (
        (reference_event(), "organisasi@example.com"),
        (today_event(today), "bappeda@example.com"),
        (future_event(today), "organisasi@example.com"),
    ):
        exists = db.session.scalar(db.select(Event.id).where(Event.title == data.title))
        if exists is None:
            owner = users[owner_email]
            event = create_event(owner, data)
            event.status = EventStatus.PUBLISHED
            added += 1
    db.session.flush()
    return added


# Participants: (name, unit short name or None, institution, position, sex digit).
PEOPLE = [
    ("Ahmad Fauzi, S.Sos.", "Bag. Organisasi", "", "Kepala Subbagian Kelembagaan", "1"),
    ("Siti Rahmawati, S.E., M.Si.", "Bappeda", "", "Perencana Ahli Muda", "2"),
    ("Muhammad Ridwan, S.T.", "Bappeda", "", "Kepala Bidang Litbang", "1"),
    ("Dewi Lestari, S.Kom.", "Diskominfo", "", "Pranata Komputer", "2"),
    ("Hendra Gunawan, S.H.", "Disdukcapil", "", "Kepala Seksi Pelayanan", "1"),
    ("Nurhayati, S.Pd.", "Disdik", "", "Analis Kebijakan", "2"),
    ("Rudi Hartono", "Dinkes", "", "Kepala Puskesmas Tanjung Enim", "1"),
    ("dr. Yuliana Sari", "RSUD HM Rabain", "", "Kepala Bidang Pelayanan Medis", "2"),
    ("Ir. Bambang Suprapto, M.T.", "Dinas PUPR", "", "Sekretaris Dinas", "1"),
    ("Sri Mulyani, S.Sos.", "DPMPTSP", "", "Kepala Bidang Pelayanan Perizinan", "2"),
    ("Agus Salim, S.IP.", "Kec. Muara Enim", "", "Sekretaris Camat", "1"),
    ("Rina Marlina, A.Md.", "Kec. Gelumbang", "", "Pengadministrasi Umum", "2"),
    ("Joko Widodo, S.E.", "BPKAD", "", "Analis Keuangan", "1"),
    ("Fitriani, S.Kep.", "Dinkes", "", "Perawat Ahli Pertama", "2"),
    ("Yusuf Maulana, S.STP.", "Setda", "", "Analis Pemerintahan", "1"),
    ("Ni Luh Putu Ayu", "Dinsos", "", "Pekerja Sosial", "2"),
    ("Sukarno", "Satpol PP", "", "Kepala Seksi Ketertiban", "1"),
    ("Lina Marliana, S.Pi.", "Diskan", "", "Penyuluh Perikanan", "2"),
    ("Arif Rahman Hakim, S.P.", "Distan", "", "Penyuluh Pertanian", "1"),
    ("Wulan Sari, S.IKom.", "Bag. Humas", "", "Pranata Humas", "2"),
    ("Taufik Hidayat, S.Kom.", "Bappeda", "", "Pranata Komputer", "1"),
    ("Dedi Kurniawan, S.T.", "Bappeda", "", "Perencana Ahli Pertama", "1"),
    ("Ratna Dewi, S.E.", "Disperindag", "", "Analis Perdagangan", "2"),
    ("Eko Prasetyo, S.H.", "Inspektorat", "", "Auditor Ahli Muda", "1"),
    ("Maya Anggraini, S.Psi.", "BKPSDM", "", "Analis SDM Aparatur", "2"),
    ("Andi Wijaya", None, "Pemerintah Kota Bandung", "Analis Inovasi", "1"),
    (
        "Rosa Amelia, S.AP.",
        None,
        "Pemerintah Kabupaten Bogor",
        "Kepala Subbagian Tata Laksana",
        "2",
    ),
    ("Bayu Aji Pamungkas, S.IP.", None, "Pemerintah Kabupaten Purworejo", "Analis Kebijakan", "1"),
    (
        "Hj. Norhayati, S.Sos.",
        None,
        "Pemerintah Kabupaten Banjar, Kalimantan Selatan",
        "Kepala Bagian Organisasi",
        "2",
    ),
]


def demo_nip(index: int, sex: str) -> str:
    """A well-formed (fictitious) NIP: birth date, appointment month, sex, sequence."""
    birth = date(1968 + index % 20, 1 + index % 12, 1 + index % 27)
    appointed = f"{birth.year + 24}{(index % 12) + 1:02d}"
    return f"{birth:%Y%m%d}{appointed}{sex}{index + 1:03d}"


def person_input(index: int, unit_ids: dict[str, int], role: str = "participant"):
    name, unit, institution, position, sex = PEOPLE[index]
    email_name = name.split(",")[0].replace("dr. ", "").replace("Ir. ", "").replace("Hj. ", "")
    email = ".".join(email_name.lower().split()) + "@example.com"
    outside = unit is None
    return RegistrationInput(
        name=name,
        email=email,
        employment_status="non_asn" if outside and index % 2 else "pns",
        nip="" if outside and index % 2 else demo_nip(index, sex),
        phone=f"0812-7{index:03d}-{1000 + index * 37 % 9000:04d}",
        position=position,
        unit_id=None if outside else unit_ids[unit],
        institution=institution,
        role=role,
    )


def load_registrations(event: Event, people: range, now: datetime) -> int:
    """Register the given demo people (skipping any already there); no mail is sent."""
    unit_ids = dict(db.session.execute(db.select(Unit.short_name, Unit.id)).all())
    existing = set(
        db.session.scalars(db.select(Registration.email).where(Registration.event_id == event.id))
    )
    added = 0
    for index in people:
        data = person_input(index, unit_ids)
        if data.email in existing:
            continue
        registration.register(event.id, data, now=now, by_organizer=True, send_mail=False)
        added += 1
    return added


def load_attendance(event: Event, staff: User) -> int:
    """Check most confirmed participants in on each day of a past event (a few miss day 2)."""
    if db.session.scalar(db.select(Checkin.id).where(Checkin.event_id == event.id).limit(1)):
        return 0
    regs = db.session.scalars(
        db.select(Registration)
        .where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED
        )
        .order_by(Registration.id)
    ).all()
    days = db.session.scalars(
        db.select(EventDay).where(EventDay.event_id == event.id).order_by(EventDay.date)
    ).all()
    added = 0
    for day_index, day in enumerate(days):
        for i, reg in enumerate(regs):
            if i % 9 == 4 or (day_index > 0 and i % 7 == 3):
                continue  # absent that day
            at = wib(day.date, 7, 40) + timedelta(minutes=(i * 3) % 55)
            db.session.add(
                Checkin(
                    registration_id=reg.id,
                    event_day_id=day.id,
                    event_id=event.id,
                    scanned_by_id=staff.id,
                    method=CheckinMethod.CAMERA,
                    checked_in_at=at,
                )
            )
            added += 1
    db.session.flush()
    return added


def load_own_registrations(user: User, events: list[Event]) -> int:
    """The demo participant's own registrations, so "Kegiatan Saya" and a ticket show."""
    if not user.unit_id:
        user.unit_id = db.session.scalar(db.select(Unit.id).where(Unit.short_name == "Diskominfo"))
        user.employment_status, user.nip = "pns", demo_nip(40, "2")
        user.position, user.phone = "Pranata Komputer Ahli Muda", "+6281278901234"
    added = 0
    for event in events:
        exists = db.session.scalar(
            db.select(Registration.id).where(
                Registration.event_id == event.id, Registration.email == user.email
            )
        )
        if exists is None:
            data = RegistrationInput(
                name=user.name,
                email=user.email,
                employment_status=user.employment_status,
                nip=user.nip,
                phone=user.phone,
                position=user.position,
                unit_id=user.unit_id,
            )
            registration.register(
                event.id,
                data,
                now=wib(date(2018, 3, 1), 8),
                user=user,
                by_organizer=True,
                send_mail=False,
            )
            added += 1
    return added


def load_speakers(event: Event) -> int:
    """The GIZ speakers, registered with the role narasumber (they get no participant seat)."""
    added = 0
    for speaker in event.speakers:
        email = ".".join(speaker.name.lower().split()) + "@giz.example.com"
        exists = db.session.scalar(
            db.select(Registration.id).where(
                Registration.event_id == event.id, Registration.email == email
            )
        )
        if exists is None:
            data = RegistrationInput(
                name=speaker.name,
                email=email,
                employment_status="non_asn",
                position="Narasumber",
                institution="GIZ",
                role="speaker",
            )
            registration.register(
                event.id, data, now=wib(date(2018, 3, 1), 8), by_organizer=True, send_mail=False
            )
            added += 1
    return added


def assign_demo_staff(staff: User) -> None:
    for event_id in db.session.scalars(db.select(Event.id)):
        exists = db.session.scalar(
            db.select(EventStaff.id).where(
                EventStaff.event_id == event_id, EventStaff.user_id == staff.id
            )
        )
        if exists is None:
            db.session.add(EventStaff(event_id=event_id, user_id=staff.id))
    db.session.flush()


def load_demo(today: date | None = None) -> str:
    """Add whatever demo rows are missing; the caller commits. Returns a summary."""
    today = today or datetime.now(UTC).astimezone(WIB).date()
    units = load_units()
    users = load_users()
    events = load_events(users, today)
    staff = users["petugas@example.com"]
    assign_demo_staff(staff)
    by_title = {e.title: e for e in db.session.scalars(db.select(Event))}
    reference = by_title[REFERENCE_TITLE]
    regs = load_registrations(reference, range(len(PEOPLE)), wib(date(2018, 3, 1), 9))
    regs += load_registrations(
        by_title[today_event(today).title], range(0, 24), wib(today - timedelta(days=3), 10)
    )
    regs += load_registrations(by_title[future_event(today).title], range(5, 15), wib(today, 7))
    regs += load_own_registrations(
        users["peserta@example.com"], [reference, by_title[today_event(today).title]]
    )
    regs += load_speakers(reference)
    db.session.commit()
    checkins = load_attendance(reference, staff)
    db.session.commit()
    certs = load_certificates(reference, users["organisasi@example.com"])
    return (
        f"{units} units, {events} events, {regs} registrations, {checkins} check-ins, "
        f"{certs} certificates added"
    )


def load_certificates(event: Event, organizer: User) -> int:
    """The reference workshop's certificate settings, and certificates for who attended."""
    from workshop.models import CertificateSettings
    from workshop.services import certificates

    if (
        db.session.scalar(
            db.select(CertificateSettings.id).where(CertificateSettings.event_id == event.id)
        )
        is None
    ):
        db.session.add(
            CertificateSettings(
                event_id=event.id,
                enabled=True,
                number_prefix="SERT",
                number_unit="BAPPEDA",
                hours=16,
                sign_place="Muara Enim",
                sign_date=date(2018, 3, 9),
                signatory_name="Ir. H. Abdul Najib, MM",
                signatory_title="Kepala Bappeda Kabupaten Muara Enim",
                signatory_rank="Pembina Utama Muda (IV/c)",
                signatory_nip=demo_nip(45, "1"),
                language="id",
            )
        )
        db.session.commit()
    result = certificates.issue_certificates(
        event.id, actor=organizer, now=wib(date(2018, 3, 9), 16)
    )
    return len(result.issued)
