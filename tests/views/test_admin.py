"""Administration of users and work units: permissions, forms, errors next to fields."""

import re

import pytest

from tests.conftest import PASSWORD
from workshop.extensions import db
from workshop.models import AuditLog, Role, Unit, UnitKind, User

SELF_LOCKOUT = "Anda tidak dapat mencabut peran admin atau menonaktifkan akun sendiri."


def text(response) -> str:
    return response.get_data(as_text=True)


def field_error(response, field_id: str) -> str:
    """The text of the error shown next to the field ``field_id`` ('' if none)."""
    match = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</div>', text(response), re.S)
    return match.group(1).strip() if match else ""


def user_links(response) -> list[str]:
    return re.findall(r'href="/admin/users/(\d+)"', text(response))


def get_user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def get_unit(app, unit_id: int) -> Unit:
    with app.app_context():
        unit = db.session.get(Unit, unit_id)
        db.session.expunge(unit)
        return unit


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


@pytest.fixture
def admin(make_user, login):
    user = make_user(Role.ADMIN, email="admin@example.com", name="Administrator Sistem")
    login(user)
    return user


# --- permission table -----------------------------------------------------

NEW_USER = {
    "name": "Pengguna Baru",
    "email": "baru@example.com",
    "role": "staff",
    "password": "sandi-baru-1",
}
EDIT_USER = {"name": "Nama Diubah", "role": "staff", "active": "y"}
NEW_UNIT = {"name": "Dinas Baru", "short_name": "Disbaru", "kind": "office", "active": "y"}
EDIT_UNIT = {"name": "Dinas Diubah", "short_name": "Disubah", "kind": "agency", "active": "y"}

ROUTES = [
    ("GET", "/admin/users", None),
    ("GET", "/admin/users?q=a&role=staff&page=1", None),
    ("GET", "/admin/users/new", None),
    ("POST", "/admin/users/new", NEW_USER),
    ("GET", "/admin/users/{user}", None),
    ("POST", "/admin/users/{user}", EDIT_USER),
    ("GET", "/admin/units", None),
    ("GET", "/admin/units?q=dinas", None),
    ("GET", "/admin/units/new", None),
    ("POST", "/admin/units/new", NEW_UNIT),
    ("GET", "/admin/units/{unit}", None),
    ("POST", "/admin/units/{unit}", EDIT_UNIT),
]
ROLES = [None, Role.PARTICIPANT, Role.STAFF, Role.ORGANIZER, Role.ADMIN]


def add_user_row(app, role: Role = Role.PARTICIPANT) -> User:
    """A user stored directly: cheaper than make_user when nobody logs in as them."""
    with app.app_context():
        user = User(email="target@example.com", name="Target", role=role, password_hash="-")
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def snapshot(app, target_user: User, target_unit: Unit):
    with app.app_context():
        return (
            count(app, User),
            count(app, Unit),
            db.session.get(User, target_user.id).name,
            db.session.get(Unit, target_unit.id).name,
        )


@pytest.mark.parametrize(("method", "path", "data"), ROUTES)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r or "anonymous"))
def test_admin_routes_are_for_admins_only(
    app, client, make_user, make_unit, login, method, path, data, role
):
    target_user = add_user_row(app)
    target_unit = make_unit()
    if role is not None:
        login(make_user(role))
    before = snapshot(app, target_user, target_unit)
    url = path.format(user=target_user.id, unit=target_unit.id)
    response = client.open(url, method=method, data=data)

    if role is None:
        assert response.status_code == 302
        assert response.location.startswith("/auth/login?next=")
    elif role != Role.ADMIN:
        assert response.status_code == 403
    else:
        assert response.status_code == (200 if method == "GET" else 302)
    # Only an admin's POST changes anything.
    changed = snapshot(app, target_user, target_unit) != before
    assert changed == (method == "POST" and role == Role.ADMIN)


@pytest.mark.parametrize("path", ["/admin/users/9999", "/admin/units/9999"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_ids_are_404(client, admin, path, method):
    assert client.open(path, method=method, data={"name": "x"}).status_code == 404


# --- user list ------------------------------------------------------------


def test_user_list_shows_roles_in_indonesian_and_status(client, admin, make_user):
    make_user(Role.ORGANIZER, name="Rini Oktarina, S.STP., M.Si.")
    make_user(Role.STAFF, name="Andi Saputra")
    make_user(Role.PARTICIPANT, name="Sri Wahyuni, S.E.", active=False)
    html = text(client.get("/admin/users"))
    rows = {
        name: re.search(rf"{re.escape(name)}</a>.*?</tr>", html, re.S).group(0)
        for name in (
            "Administrator Sistem",
            "Rini Oktarina, S.STP., M.Si.",
            "Andi Saputra",
            "Sri Wahyuni, S.E.",
        )
    }
    assert ">Admin<" in rows["Administrator Sistem"]
    assert ">Penyelenggara<" in rows["Rini Oktarina, S.STP., M.Si."]
    assert ">Petugas<" in rows["Andi Saputra"]
    assert ">Peserta<" in rows["Sri Wahyuni, S.E."]
    assert "Nonaktif" in rows["Sri Wahyuni, S.E."]
    assert "Nonaktif" not in rows["Andi Saputra"]


def test_user_list_search_and_role_filter(client, admin, make_user):
    najib = make_user(Role.ORGANIZER, name="Ir. H. Abdul Najib, MM", email="najib@bappeda.example")
    andi = make_user(Role.STAFF, name="Andi Saputra", email="andi@example.com")
    sri = make_user(Role.PARTICIPANT, name="Sri Wahyuni", email="sri@bappeda.example")

    def listed(query: str) -> set[int]:
        return {int(i) for i in user_links(client.get("/admin/users" + query))}

    assert listed("?q=najib") == {najib.id}
    assert listed("?q=BAPPEDA.example") == {najib.id, sri.id}
    assert listed("?role=staff") == {andi.id}
    assert listed("?q=bappeda&role=participant") == {sri.id}
    assert listed("?q=%25") == set()  # "%" is a character, not a wildcard
    assert listed("?role=nonsense") == {admin.id, najib.id, andi.id, sri.id}
    assert "Tidak ada pengguna yang cocok." in text(client.get("/admin/users?q=zzz"))


def test_user_list_is_paginated_by_50(app, client, admin):
    with app.app_context():
        template = db.session.get(User, admin.id).password_hash
        db.session.add_all(
            User(
                email=f"p{n:02}@example.com",
                name=f"Peserta {n:02}",
                role=Role.PARTICIPANT,
                password_hash=template,
            )
            for n in range(60)
        )
        db.session.commit()
    first = client.get("/admin/users")
    second = client.get("/admin/users?page=2")
    assert len(user_links(first)) == 50
    assert len(user_links(second)) == 11  # 61 users in all
    assert set(user_links(first)).isdisjoint(user_links(second))
    assert 'href="/admin/users?page=2"' in text(first)
    # The filter is kept when paging.
    filtered = client.get("/admin/users?q=Peserta&role=participant")
    assert "q=Peserta" in text(filtered)
    assert "role=participant" in text(filtered)
    assert "page=2" in text(filtered)


def test_user_names_are_escaped(client, admin, make_user):
    user = make_user(name="<script>alert(1)</script>")
    listing = text(client.get("/admin/users"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    assert "<script>alert(1)" not in listing
    form = text(client.get(f"/admin/users/{user.id}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in form
    assert "<script>alert(1)" not in form


# --- creating and editing users ------------------------------------------


def test_admin_creates_a_user_who_can_log_in(app, client, admin):
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Ir. H. Abdul Najib, MM",
            "email": "Najib@Bappeda.example",
            "role": "organizer",
            "password": "sandi-awal-123",
        },
    )
    assert response.status_code == 302
    assert response.location == "/admin/users"
    assert "berhasil ditambahkan" in text(client.get(response.location))
    user = get_user(app, "najib@bappeda.example")
    assert user.name == "Ir. H. Abdul Najib, MM"
    assert user.role == Role.ORGANIZER
    assert user.check_password("sandi-awal-123")
    with app.app_context():
        entry = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "user.create"))
        assert (entry.user_id, entry.object_id) == (admin.id, user.id)

    other = app.test_client()
    login = other.post(
        "/auth/login", data={"email": "najib@bappeda.example", "password": "sandi-awal-123"}
    )
    assert login.status_code == 302


def test_duplicate_email_is_shown_next_to_the_field(app, client, admin, make_user):
    make_user(email="ada@example.com")
    users_before = count(app, User)
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Nama Saya",
            "email": "ADA@example.com",
            "role": "staff",
            "password": "sandi-baru-1",
        },
    )
    html = text(response)
    assert response.status_code == 200
    assert field_error(response, "email") == "Email ini sudah dipakai akun lain."
    assert 'value="Nama Saya"' in html  # input kept
    assert 'value="ADA@example.com"' in html
    assert re.search(r'<option selected value="staff">', html)
    assert "sandi-baru-1" not in html  # the password is not sent back
    assert count(app, User) == users_before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"password": "pendek"}, "password", "Kata sandi minimal 8 karakter."),
        ({"email": "bukan-email"}, "email", "Alamat email tidak valid."),
        ({"name": "   "}, "name", "Wajib diisi."),
        ({"role": "superuser"}, "role", "Pilih salah satu pilihan yang tersedia."),
    ],
)
def test_invalid_new_user_errors_next_to_field(app, client, admin, data, field, message):
    users_before = count(app, User)
    response = client.post("/admin/users/new", data={**NEW_USER, **data})
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert count(app, User) == users_before


def test_admin_edits_name_role_status_and_password(app, client, admin, make_user):
    user = make_user(Role.PARTICIPANT, name="Andi")
    form = text(client.get(f"/admin/users/{user.id}"))
    assert 'value="Andi"' in form
    assert user.email in form
    response = client.post(
        f"/admin/users/{user.id}",
        data={
            "name": "Andi Saputra, S.Kom.",
            "role": "staff",
            "active": "y",
            "new_password": "sandi-baru-99",
        },
    )
    assert response.status_code == 302
    saved = get_user(app, user.email)
    assert (saved.name, saved.role, saved.active) == ("Andi Saputra, S.Kom.", Role.STAFF, True)
    assert saved.check_password("sandi-baru-99")

    # Deactivating (checkbox left unticked) stops the login.
    response = client.post(f"/admin/users/{user.id}", data={"name": "Andi", "role": "staff"})
    assert response.status_code == 302
    assert get_user(app, user.email).active is False
    other = app.test_client()
    refused = other.post("/auth/login", data={"email": user.email, "password": "sandi-baru-99"})
    assert refused.status_code == 200


def test_edit_without_new_password_keeps_the_old_one(app, client, admin, make_user):
    user = make_user()
    response = client.post(
        f"/admin/users/{user.id}", data={"name": "Baru", "role": "participant", "active": "y"}
    )
    assert response.status_code == 302
    assert get_user(app, user.email).check_password(PASSWORD)


def test_weak_new_password_saves_nothing(app, client, admin, make_user):
    user = make_user(Role.PARTICIPANT, name="Nama Lama")
    response = client.post(
        f"/admin/users/{user.id}",
        data={"name": "Nama Baru", "role": "organizer", "active": "y", "new_password": "pendek"},
    )
    assert response.status_code == 200
    assert field_error(response, "new_password") == "Kata sandi minimal 8 karakter."
    assert 'value="Nama Baru"' in text(response)  # input kept
    saved = get_user(app, user.email)
    assert (saved.name, saved.role) == ("Nama Lama", Role.PARTICIPANT)
    assert saved.check_password(PASSWORD)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Administrator Sistem", "role": "participant", "active": "y"},
        {"name": "Administrator Sistem", "role": "admin"},  # deactivate oneself
    ],
)
def test_admin_cannot_demote_or_deactivate_themself(app, client, admin, data):
    response = client.post(f"/admin/users/{admin.id}", data=data)
    assert response.status_code == 200
    assert SELF_LOCKOUT in text(response)
    saved = get_user(app, admin.email)
    assert (saved.role, saved.active) == (Role.ADMIN, True)
    assert client.get("/admin/users").status_code == 200  # still an admin


def test_admin_may_rename_themself(app, client, admin):
    response = client.post(
        f"/admin/users/{admin.id}", data={"name": "Admin Utama", "role": "admin", "active": "y"}
    )
    assert response.status_code == 302
    assert get_user(app, admin.email).name == "Admin Utama"


# --- units ----------------------------------------------------------------


def test_unit_list_shows_kind_labels_and_status(client, admin, make_unit):
    make_unit(
        name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda", kind=UnitKind.AGENCY
    )
    make_unit(name="RSUD H.M. Rabain", short_name="RSUD HM Rabain", kind=UnitKind.HOSPITAL)
    make_unit(
        name="Kecamatan Lawang Kidul",
        short_name="Kec. Lawang Kidul",
        kind=UnitKind.DISTRICT,
        active=False,
    )
    html = text(client.get("/admin/units"))
    row = {m.group(1): m.group(0) for m in re.finditer(r">([^<>]+)</a>.*?</tr>", html, re.S)}
    assert "Badan" in row["Badan Perencanaan Pembangunan Daerah"]
    assert "Rumah Sakit" in row["RSUD H.M. Rabain"]
    assert "Kecamatan" in row["Kecamatan Lawang Kidul"]
    assert "Nonaktif" in row["Kecamatan Lawang Kidul"]
    assert "Nonaktif" not in row["RSUD H.M. Rabain"]


def test_unit_search(client, admin, make_unit):
    bappeda = make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    kominfo = make_unit(name="Dinas Komunikasi dan Informatika", short_name="Diskominfo")

    def listed(q):
        html = text(client.get(f"/admin/units?q={q}"))
        return {int(i) for i in re.findall(r'href="/admin/units/(\d+)"', html)}

    assert listed("bappeda") == {bappeda.id}
    assert listed("KOMUNIKASI") == {kominfo.id}
    assert listed("") == {bappeda.id, kominfo.id}
    assert listed("_") == set()


def test_admin_creates_and_deactivates_a_unit(app, client, admin):
    response = client.post(
        "/admin/units/new",
        data={
            "name": "Dinas Komunikasi dan Informatika",
            "short_name": "Diskominfo",
            "kind": "office",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert response.location == "/admin/units"
    with app.app_context():
        unit = db.session.scalar(db.select(Unit).where(Unit.short_name == "Diskominfo"))
        unit_id = unit.id
    assert (unit.name, unit.kind, unit.active) == (
        "Dinas Komunikasi dan Informatika",
        UnitKind.OFFICE,
        True,
    )
    form = text(client.get(f"/admin/units/{unit_id}"))
    assert 'value="Diskominfo"' in form
    assert re.search(r'<option selected value="office">', form)

    response = client.post(
        f"/admin/units/{unit_id}",
        data={
            "name": "Dinas Komunikasi dan Informatika",
            "short_name": "Diskominfo",
            "kind": "office",
        },
    )
    assert response.status_code == 302
    assert get_unit(app, unit_id).active is False
    assert "Diskominfo" in text(client.get("/admin/units"))  # kept, shown as inactive


def test_duplicate_unit_short_name_is_shown_next_to_the_field(app, client, admin, make_unit):
    make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    other = make_unit(name="Dinas Lain", short_name="Dinlain")
    units_before = count(app, Unit)

    response = client.post("/admin/units/new", data={**NEW_UNIT, "short_name": "Bappeda"})
    assert response.status_code == 200
    assert field_error(response, "short_name") == "Sudah dipakai unit lain."
    assert 'value="Dinas Baru"' in text(response)
    assert count(app, Unit) == units_before

    response = client.post(
        f"/admin/units/{other.id}", data={**EDIT_UNIT, "name": "Nama Baru", "short_name": "Bappeda"}
    )
    assert response.status_code == 200
    assert field_error(response, "short_name") == "Sudah dipakai unit lain."
    assert get_unit(app, other.id).name == "Dinas Lain"  # nothing half-saved


def test_unit_keeps_its_own_short_name_on_edit(app, client, admin, make_unit):
    unit = make_unit(name="Dinas Kesehatan", short_name="Dinkes")
    response = client.post(
        f"/admin/units/{unit.id}",
        data={
            "name": "Dinas Kesehatan Kabupaten",
            "short_name": "Dinkes",
            "kind": "office",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert get_unit(app, unit.id).name == "Dinas Kesehatan Kabupaten"


def test_unit_required_fields(app, client, admin):
    response = client.post("/admin/units/new", data={"name": "", "short_name": "", "kind": "x"})
    assert response.status_code == 200
    assert field_error(response, "name") == "Wajib diisi."
    assert field_error(response, "short_name") == "Wajib diisi."
    assert field_error(response, "kind") == "Pilih salah satu pilihan yang tersedia."
    assert count(app, Unit) == 0


def test_unit_names_are_escaped(client, admin, make_unit):
    make_unit(name="<b>Dinas</b> & Co", short_name="<i>x</i>")
    html = text(client.get("/admin/units"))
    assert "&lt;b&gt;Dinas&lt;/b&gt; &amp; Co" in html
    assert "<b>Dinas</b>" not in html
