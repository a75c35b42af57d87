"""Friendly error pages in both languages; no traceback outside debug mode."""

import pytest

from workshop.models import Role


@pytest.fixture
def failing_app(app):
    @app.get("/_boom")
    def boom():
        raise RuntimeError("secret detail from the database layer")

    return app


@pytest.mark.parametrize(
    ("lang", "text"), [("id", "Terjadi kesalahan pada server"), ("en", "A server error occurred")]
)
def test_500_is_friendly_and_hides_the_traceback(failing_app, lang, text):
    failing_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = failing_app.test_client()
    with client.session_transaction() as session:
        session["lang"] = lang
    response = client.get("/_boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert text in body
    assert "Traceback" not in body
    assert "secret detail" not in body


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("id", "Halaman yang Anda cari tidak ditemukan"),
        ("en", "The page you are looking for was not found"),
    ],
)
def test_404_page_in_both_languages(client, lang, text):
    with client.session_transaction() as session:
        session["lang"] = lang
    response = client.get("/tidak-ada")
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)


def test_403_page(client, login, make_user):
    login(make_user(Role.PARTICIPANT))
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Anda tidak memiliki akses ke halaman ini" in response.get_data(as_text=True)
