"""Signing in and out, own password change, language switch, CSRF and the login rate limit."""

import re

import pytest

from tests.conftest import PASSWORD
from workshop.extensions import db, limiter
from workshop.models import Role, User

WRONG = "Email atau kata sandi salah."


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def field_error(response, field_id: str) -> str:
    """The text of the error shown next to the field ``field_id`` ('' if none)."""
    match = re.search(
        rf'id="{field_id}-error"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S
    )
    return match.group(1).strip() if match else ""


def csrf_token(response) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))[1]


def is_logged_in(client) -> bool:
    """The password page needs a login: 200 when signed in, a redirect to login otherwise."""
    return client.get("/auth/password").status_code == 200


def stored(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


# --- login ----------------------------------------------------------------


def test_login_page_has_labelled_fields(client):
    response = client.get("/auth/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label class="form-label" for="email">' in html
    assert 'autocomplete="current-password"' in html


def test_login_success_redirects_participant_to_events(client, make_user):
    user = make_user(Role.PARTICIPANT, name="Sri Wahyuni, S.E.")
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/"
    assert "Sri Wahyuni, S.E." in client.get("/").get_data(as_text=True)
    assert is_logged_in(client)


def test_login_ignores_case_and_spaces_in_email(client, make_user):
    make_user(email="rini@example.com")
    response = client.post(
        "/auth/login", data={"email": "  Rini@Example.COM ", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert is_logged_in(client)


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.ADMIN])
def test_login_sends_organizers_to_their_work_page(app, client, make_user, role):
    user = make_user(role)
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    expected = "/"
    if "organizer.events" in app.view_functions:
        with app.test_request_context():
            from flask import url_for

            expected = url_for("organizer.events")
    assert response.status_code == 302
    assert response.location == expected


def test_wrong_password_and_unknown_email_look_the_same(client, make_user):
    user = make_user(email="ada@example.com")
    wrong_password = client.post(
        "/auth/login", data={"email": "ada@example.com", "password": "salah-sekali"}
    )
    unknown_email = client.post(
        "/auth/login", data={"email": "tiada@example.com", "password": "salah-sekali"}
    )
    for response, email in ((wrong_password, user.email), (unknown_email, "tiada@example.com")):
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert WRONG in html
        assert f'value="{email}"' in html  # the typed email is kept
        assert "salah-sekali" not in html  # the password is not

    # Nothing but the typed email (and the time-stamped CSRF token) differs between the two.
    def normalised(response, local_part):
        html = response.get_data(as_text=True).replace(local_part, "X@")
        return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)

    assert normalised(wrong_password, "ada@") == normalised(unknown_email, "tiada@")
    assert not is_logged_in(client)


def test_inactive_user_cannot_log_in(client, make_user):
    user = make_user(active=False)
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_empty_login_form_says_what_is_missing(client):
    response = client.post("/auth/login", data={"email": "", "password": ""})
    assert response.status_code == 200
    assert field_error(response, "email") == "Wajib diisi."
    assert field_error(response, "password") == "Wajib diisi."


def test_login_form_carries_next_from_the_query(client):
    html = client.get("/auth/login?next=/auth/password").get_data(as_text=True)
    assert re.search(r'name="next" type="hidden" value="/auth/password"', html)


@pytest.mark.parametrize("source", ["form", "query"])
def test_login_follows_a_relative_next(client, make_user, source):
    user = make_user()
    data = {"email": user.email, "password": PASSWORD}
    if source == "form":
        response = client.post("/auth/login", data={**data, "next": "/auth/password?x=1"})
    else:
        response = client.post("/auth/login?next=/auth/password%3Fx%3D1", data=data)
    assert response.status_code == 302
    assert response.location == "/auth/password?x=1"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/x",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "relative/path",
    ],
)
def test_login_ignores_an_outside_next(client, make_user, target):
    user = make_user()
    response = client.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.location == "/"


def test_logged_in_user_visiting_login_is_redirected(client, make_user, login):
    login(make_user())
    response = client.get("/auth/login?next=/auth/password")
    assert response.status_code == 302
    assert response.location == "/auth/password"
    assert client.get("/auth/login?next=//evil.example").location == "/"


# --- logout ---------------------------------------------------------------


def test_logout_needs_post(client, make_user, login):
    login(make_user())
    assert client.get("/auth/logout").status_code == 405
    assert is_logged_in(client)
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert response.location == "/"
    assert "Anda telah keluar." in client.get("/").get_data(as_text=True)
    assert not is_logged_in(client)


# --- own password ---------------------------------------------------------


def test_change_password_needs_login(client):
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login?next=")


def post_password(client, current=PASSWORD, new="kata-sandi-baru", confirm=None):
    return client.post(
        "/auth/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"current": "bukan-ini"}, "current_password", "Kata sandi saat ini salah."),
        ({"new": "pendek"}, "new_password", "Kata sandi minimal 8 karakter."),
        ({"confirm": "kata-sandi-lain"}, "confirm_password", "Kedua kata sandi baru tidak sama."),
        ({"current": ""}, "current_password", "Wajib diisi."),
    ],
)
def test_change_password_errors_next_to_field(app, client, make_user, login, data, field, message):
    user = make_user()
    login(user)
    response = post_password(client, **data)
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert stored(app, user.id).check_password(PASSWORD)  # unchanged


def test_change_password_then_only_the_new_one_works(app, client, make_user, login):
    user = make_user()
    login(user)
    response = post_password(client, new="kata-sandi-baru")
    assert response.status_code == 302
    assert "Kata sandi berhasil diubah." in client.get(response.location).get_data(as_text=True)
    client.post("/auth/logout")

    old = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert old.status_code == 200
    assert WRONG in old.get_data(as_text=True)
    new = client.post("/auth/login", data={"email": user.email, "password": "kata-sandi-baru"})
    assert new.status_code == 302


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app, client, make_user, login):
    """A stolen session or a forgotten login on a shared office laptop ends when the
    password changes; the browser that changed it stays signed in."""
    user = make_user()
    other = app.test_client()  # the same account on another device, with "remember me"
    response = other.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    assert other.get_cookie("remember_token", domain="workshop.test") is not None
    login(user)
    assert is_logged_in(client) and is_logged_in(other)
    other.delete_cookie("session", domain="workshop.test")
    assert is_logged_in(other)  # signed in again by the remember-me cookie alone

    response = post_password(client, new="kata-sandi-baru")
    assert response.status_code == 302
    assert "Sesi lain akun ini telah diakhiri." in client.get(response.location).get_data(
        as_text=True
    )
    assert is_logged_in(client)
    assert not is_logged_in(other)
    # Neither the old session nor the remember-me cookie brings it back.
    other.delete_cookie("session", domain="workshop.test")
    assert not is_logged_in(other)


def test_an_admin_password_reset_ends_the_users_sessions(app, client, make_user, login):
    from workshop.services import users

    user = make_user()
    login(user)
    assert is_logged_in(client)
    with app.app_context():
        users.set_password(db.session.get(User, user.id), "direset-admin-123")
        db.session.commit()
    assert not is_logged_in(client)


# --- language -------------------------------------------------------------


def test_language_switch_for_visitors(client):
    assert html_lang(client.get("/")) == "id"
    response = client.post("/auth/language", data={"lang": "en", "next": "/auth/login"})
    assert response.status_code == 302
    assert response.location == "/auth/login"
    assert html_lang(client.get("/auth/login")) == "en"
    client.post("/auth/language", data={"lang": "id", "next": "/"})
    assert html_lang(client.get("/")) == "id"


@pytest.mark.parametrize("lang", ["fr", "", "en-US"])
def test_unknown_language_changes_nothing(client, lang):
    client.post("/auth/language", data={"lang": "en", "next": "/"})
    response = client.post("/auth/language", data={"lang": lang, "next": "/auth/login"})
    assert response.status_code == 302
    assert response.location == "/auth/login"
    assert html_lang(client.get("/")) == "en"


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example", None])
def test_language_switch_ignores_an_outside_next(client, target):
    data = {"lang": "en"} if target is None else {"lang": "en", "next": target}
    response = client.post("/auth/language", data=data)
    assert response.status_code == 302
    assert response.location == "/"


def test_language_is_remembered_for_the_user(app, client, make_user, login):
    user = make_user()
    login(user)
    client.post("/auth/language", data={"lang": "en", "next": "/"})
    assert html_lang(client.get("/")) == "en"
    assert stored(app, user.id).locale == "en"

    other_device = app.test_client()
    assert html_lang(other_device.get("/")) == "id"  # a visitor: the default language
    other_device.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert html_lang(other_device.get("/")) == "en"

    client.post("/auth/language", data={"lang": "id", "next": "/"})
    assert stored(app, user.id).locale == "id"
    assert html_lang(other_device.get("/")) == "id"


def test_language_stays_after_logout(client, make_user, login):
    login(make_user())
    client.post("/auth/language", data={"lang": "en", "next": "/"})
    client.post("/auth/logout")
    assert html_lang(client.get("/")) == "en"


# --- CSRF -----------------------------------------------------------------


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_login_without_token_is_refused(self, client, make_user):
        user = make_user()
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 400
        assert "Sesi formulir sudah kedaluwarsa" in response.get_data(as_text=True)
        assert not is_logged_in(client)

    def test_login_with_token_works(self, client, make_user):
        user = make_user()
        token = csrf_token(client.get("/auth/login"))
        response = client.post(
            "/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        assert is_logged_in(client)

    def test_language_without_token_is_refused(self, app, client, make_user):
        user = make_user()
        token = csrf_token(client.get("/auth/login"))
        client.post(
            "/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        response = client.post("/auth/language", data={"lang": "en", "next": "/"})
        assert response.status_code == 400
        assert html_lang(client.get("/")) == "id"
        assert stored(app, user.id).locale is None

        page = client.get("/")
        response = client.post(
            "/auth/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(page)}
        )
        assert response.status_code == 302
        assert stored(app, user.id).locale == "en"

    def test_logout_without_token_keeps_the_session(self, client, make_user):
        user = make_user()
        token = csrf_token(client.get("/auth/login"))
        client.post(
            "/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert client.post("/auth/logout").status_code == 400
        assert is_logged_in(client)


# --- rate limit -----------------------------------------------------------


class TestLoginRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_fourth_post_in_a_minute_is_refused(self, app, client, make_user):
        with app.app_context():
            limiter.reset()
        user = make_user()
        for _ in range(3):
            response = client.post("/auth/login", data={"email": user.email, "password": "salah!!"})
            assert response.status_code == 200
        # Even the right password is refused now, with the friendly page.
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
        assert "Terlalu banyak permintaan" in response.get_data(as_text=True)
        assert "Retry-After" in response.headers
        assert not is_logged_in(client)
        # Only POST is limited: the page itself still opens.
        assert client.get("/auth/login").status_code == 200


def test_fields_without_help_or_error_carry_no_empty_aria_attributes(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert '="None"' not in html
    invalid = client.post("/auth/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert 'aria-invalid="true"' in invalid
