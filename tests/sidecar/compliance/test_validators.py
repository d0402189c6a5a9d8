"""Validators against published good values and near-miss bad ones."""

from __future__ import annotations

import pytest

from sidecar.compliance import validators as v


@pytest.mark.parametrize("number", ["79927398713", "4111111111111111", "0"])
def test_luhn_accepts_valid(number: str) -> None:
    assert v.luhn_valid(number)


@pytest.mark.parametrize("number", ["79927398710", "4111111111111112", "", "12a4", "１２３"])
def test_luhn_rejects_invalid(number: str) -> None:
    assert not v.luhn_valid(number)


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4111111111111111", "visa"),
        ("4012888888881881", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("371449635398431", "amex"),
        ("6011111111111117", "discover"),
        ("6445644564456445", "discover"),
        ("3530111333300000", "jcb"),
        ("3566002020360505", "jcb"),
        ("30569309025904", "diners"),
        ("38520000023237", "diners"),
        ("6200000000000005", "unionpay"),
        ("6759649826438453", "maestro"),
        ("6304000000000000", "maestro"),
        ("5018000000000009", "maestro"),
    ],
)
def test_card_brands_and_checksums(number: str, brand: str) -> None:
    assert v.card_brand(number) == brand
    assert v.card_valid(number)
    assert v.card_valid(" ".join(number[i : i + 4] for i in range(0, len(number), 4)))


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111112",  # Luhn fails
        "5555555555554443",
        "1234567812345670",  # passes Luhn, no network starts with 1
        "2721000000000006",  # just past the Mastercard 2-series
        "3782822463100050",  # Amex prefix, 16 digits
        "411111111111",  # too short
        "675964982648",  # a Luhn-valid 12-digit Maestro form: too many other codes share it
        "0000000000000000",
        "4444444444444448"[:15] + "4",
    ],
)
def test_card_rejects_bad_numbers(number: str) -> None:
    assert not v.card_valid(number)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "CH9300762011623852957",
        "NO9386011117947",
        "BE68539007547034",
    ],
)
def test_iban_valid(iban: str) -> None:
    assert v.iban_valid(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # checksum
        "DE88370400440532013000",  # check digits
        "GB82WEST1234569876543",  # length for GB
        "XX89370400440532013000",  # no such country
        "DE8937040044053201300",
        "",
        "DE89-3704-0044-0532-0130-00",
    ],
)
def test_iban_invalid(iban: str) -> None:
    assert not v.iban_valid(iban)


@pytest.mark.parametrize("number", ["021000021", "011000015", "122105155", "026009593"])
def test_aba_valid(number: str) -> None:
    assert v.aba_valid(number)


@pytest.mark.parametrize("number", ["021000022", "123456789", "000000000", "131000027", "02100002"])
def test_aba_invalid(number: str) -> None:
    assert not v.aba_valid(number)


@pytest.mark.parametrize("ssn", ["123-45-6789", "001-01-0001", "899-99-9999", "665 12 3456", "772101234"])
def test_ssn_valid(ssn: str) -> None:
    assert v.ssn_valid(ssn)


@pytest.mark.parametrize(
    "ssn", ["000-12-3456", "666-12-3456", "900-12-3456", "999-45-6789", "123-00-4567", "123-45-0000",
            "078-05-1120", "12345678", "1234567890"],
)
def test_ssn_invalid(ssn: str) -> None:
    assert not v.ssn_valid(ssn)


def test_itin_ranges() -> None:
    assert v.itin_valid("912-70-1234") and v.itin_valid("900-50-0001") and v.itin_valid("999-99-9999")
    for bad in ("912-45-1234", "912-93-1234", "912-89-1234", "812-70-1234", "912-70-0000"):
        assert not v.itin_valid(bad), bad


def test_ein_prefixes() -> None:
    assert v.ein_valid("12-3456789") and v.ein_valid("98-7654321")
    for bad in ("07-1234567", "00-1234567", "89-1234567", "12-0000000", "12-345678"):
        assert not v.ein_valid(bad), bad


def test_npi() -> None:
    assert v.npi_valid("1234567893")
    for bad in ("1234567890", "3234567893", "123456789", "12345678931"):
        assert not v.npi_valid(bad), bad


def test_dea() -> None:
    assert v.dea_valid("AB1234563") and v.dea_valid("A91234563") and v.dea_valid("ma1234563")
    for bad in ("AB1234564", "IB1234563", "A11234563", "AB123456", "AB12345X3"):
        assert not v.dea_valid(bad), bad


def test_swift() -> None:
    for good in ("DEUTDEFF", "DEUTDEFF500", "NEDSZAJJXXX", "BOFAUS3N"):
        assert v.swift_valid(good), good
    for bad in ("DEUTXXFF", "DEUT1EFF", "DEUTDE0F", "deutdeff", "DEUTDEF", "DEUTDEFF50"):
        assert not v.swift_valid(bad), bad


def test_uk_nino() -> None:
    for good in ("AB123456C", "AB 12 34 56 C", "JG103759A"):
        assert v.uk_nino_valid(good), good
    for bad in ("QQ123456C", "GB123456A", "AB123456E", "AO123456A", "DA123456A", "NK123456A", "AB12345C"):
        assert not v.uk_nino_valid(bad), bad


def test_uk_nhs() -> None:
    assert v.uk_nhs_valid("9434765919") and v.uk_nhs_valid("943 476 5919")
    for bad in ("9434765918", "0000000000", "943476591", "1111111111"):
        assert not v.uk_nhs_valid(bad), bad


def test_spanish_ids() -> None:
    assert v.es_dni_valid("12345678Z") and v.es_dni_valid("12345678-Z")
    assert not v.es_dni_valid("12345678A") and not v.es_dni_valid("1234567Z")
    assert v.es_nie_valid("X1234567L") and v.es_nie_valid("Y0000000Z")
    assert not v.es_nie_valid("X1234567A") and not v.es_nie_valid("W1234567L")


def test_italian_fiscal_code() -> None:
    assert v.it_fiscal_code_valid("RSSMRA80A01H501U")
    assert v.it_fiscal_code_valid("MRTMTT91D08F205J")
    for bad in ("RSSMRA80A01H501V", "RSSMRA80Z01H501U", "RSSMRA80A01H50", "RSSMRA80A99H501U"):
        assert not v.it_fiscal_code_valid(bad), bad


def _nir_key(body: str) -> str:
    numeric = body.replace("2A", "19").replace("2B", "18")
    return f"{97 - int(numeric) % 97:02d}"


def test_french_nir_including_corsica() -> None:
    body = "2550814168025"
    assert v.fr_nir_valid(body + _nir_key(body))
    assert v.fr_nir_valid("2 55 08 14 168 025 " + _nir_key(body))
    corsica = "18505" + "2A" + "123456"
    assert v.fr_nir_valid(corsica + _nir_key(corsica))
    assert not v.fr_nir_valid(body + f"{(int(_nir_key(body)) % 96) + 1:02d}")
    assert not v.fr_nir_valid("5550814168025" + _nir_key("5550814168025"))  # sex digit


def test_german_tax_id() -> None:
    for good in ("86095742719", "47036892816", "65929970489"):
        assert v.de_tax_id_valid(good), good
    for bad in ("86095742710", "11111111111", "01234567890", "12345678903", "1234567890"):
        assert not v.de_tax_id_valid(bad), bad


def test_german_tax_id_three_in_a_row_is_invalid() -> None:
    # Same digits as a valid shape, but a digit repeated three times consecutively.
    assert not v.de_tax_id_valid("11145678903")
