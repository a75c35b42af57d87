"""NIP, NI PPPK and phone numbers."""

from datetime import date

import pytest

from workshop.services.identity import (
    IdentityError,
    check_nip,
    check_pppk_number,
    normalise_phone,
)

TODAY = date(2030, 1, 15)


@pytest.mark.parametrize(
    "raw",
    [
        "19680411 199303 1 009",
        "196804111993031009",
        "19680411.199303.1.009",
        "19680411-199303-1-009",
        " 19680411 199303 1 009 ",
    ],
)
def test_valid_nip_in_the_usual_spellings(raw):
    assert check_nip(raw, TODAY) == "196804111993031009"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("19680411 199303 1 00", "18 digit"),  # 17 digits
        ("1968041119930310091", "18 digit"),  # 19 digits
        ("19680411 199303 1 0A9", "18 digit"),  # a letter
        ("19681311 199303 1 009", "tanggal lahir"),  # month 13
        ("19680230 199303 1 009", "tanggal lahir"),  # 30 February
        ("20310101 199303 1 009", "tanggal lahir"),  # born after today
        ("19680411 196803 1 009", "pengangkatan"),  # appointed before birth month
        ("19680411 199313 1 009", "pengangkatan"),  # month 13
        ("19680411 203501 1 009", "pengangkatan"),  # appointed in the future
        ("19680411 199303 3 009", "ke-15"),  # gender digit
        ("19680411 199303 1 000", "000"),  # sequence 000
    ],
)
def test_invalid_nip_says_what_is_wrong(raw, fragment):
    with pytest.raises(IdentityError) as info:
        check_nip(raw, TODAY)
    assert fragment in str(info.value)


def test_pppk_number_is_18_digits_with_its_own_layout():
    assert check_pppk_number("1985 0101 2021 21 1 001") == "198501012021211001"
    with pytest.raises(IdentityError):
        check_pppk_number("12345")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("62812 3456 7890", "+6281234567890"),
        ("(0734) 421234", "+62734421234"),
        ("0812.3456.789", "+628123456789"),
    ],
)
def test_phone_is_normalised(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["0812-ABC-7890", "+1 202 555 0100", "12345", "0812", "+62 0812"])
def test_bad_phone_is_refused(raw):
    with pytest.raises(IdentityError):
        normalise_phone(raw)


@pytest.mark.parametrize(
    "address",
    [
        "peserta.satu@muaraenimkab.go.id",
        "Abdul.Najib@MuaraEnimKab.go.id",
        "a..b@muaraenimkab.go.id",
        ".a@muaraenimkab.go.id",
        "a.@muaraenimkab.go.id",
        "a b@muaraenimkab.go.id",
        "a@b@muaraenimkab.go.id",
        "@muaraenimkab.go.id",
        "x" * 64 + "@muaraenimkab.go.id",
        "x" * 65 + "@muaraenimkab.go.id",
        "tanda+plus_dan%persen-strip@muaraenimkab.go.id",
        '"quoted"@muaraenimkab.go.id',
        "ñame@muaraenimkab.go.id",
        "nama@muaraenimkab.go.id.",
        "nama@localhost",
    ],
)
def test_email_at_a_known_domain_is_judged_as_email_validator_judges_it(address):
    """Addresses at a domain already validated skip email_validator; the answer must be
    the same as when it is asked."""
    from email_validator import EmailNotValidError, validate_email

    from workshop.services.errors import ValidationError
    from workshop.services.users import normalise_email

    normalise_email("first@muaraenimkab.go.id")  # the domain is now known
    try:
        expected = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        with pytest.raises(ValidationError):
            normalise_email(address)
    else:
        assert normalise_email(address) == expected


def test_a_plain_address_at_a_known_domain_is_not_validated_again(monkeypatch):
    """The point of the shortcut above: email_validator (its idna domain checks) is asked
    once per domain for plain addresses, not for every registration."""
    from workshop.services import users
    from workshop.services.errors import ValidationError

    asked = []
    real = users.validate_email
    monkeypatch.setattr(
        users, "validate_email", lambda address, **kw: asked.append(address) or real(address, **kw)
    )
    monkeypatch.setattr(users, "_known_domains", set())
    assert [
        users.normalise_email(a)
        for a in (
            "pertama@bappeda.muaraenimkab.go.id",
            "Kedua.Orang@bappeda.muaraenimkab.go.id",
            "ketiga+x@BAPPEDA.muaraenimkab.go.id",
        )
    ] == [
        "pertama@bappeda.muaraenimkab.go.id",
        "kedua.orang@bappeda.muaraenimkab.go.id",
        "ketiga+x@bappeda.muaraenimkab.go.id",
    ]
    assert asked == ["pertama@bappeda.muaraenimkab.go.id"]
    with pytest.raises(ValidationError):  # not plain: email_validator decides
        users.normalise_email('"kutip"@bappeda.muaraenimkab.go.id')
    assert asked[-1] == '"kutip"@bappeda.muaraenimkab.go.id'
