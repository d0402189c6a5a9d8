"""Each detector on realistic positives and on hard negatives that must not match."""

from __future__ import annotations

import pytest

from sidecar.compliance.detectors import DETECTOR_IDS, DETECTORS, detect


def found(detector: str, text: str) -> list[str]:
    return [text[start:end] for _, start, end in detect(text, [detector])]


POSITIVES = [
    ("person_name", "Patient John Smith was admitted overnight.", ["John Smith"]),
    ("person_name", "Please forward this to Dr. Okonkwo before noon.", ["Okonkwo"]),
    ("person_name", "Dear Mrs. Eleanor Vance, thank you for your letter.", ["Eleanor Vance"]),
    ("person_name", "Name: Maria J. Garcia", ["Maria J. Garcia"]),
    ("person_name", "Meeting with Priya Patel and Frank Reyes tomorrow.", ["Priya Patel", "Frank Reyes"]),
    ("person_name", "employee Mateo Szymanski requested leave", ["Mateo Szymanski"]),
    ("street_address", "Ship to 1600 Pennsylvania Avenue, Washington, DC 20500 please.", ["1600 Pennsylvania Avenue, Washington, DC 20500"]),
    ("street_address", "Lieferadresse: Hauptstraße 12, 10115 Berlin", ["Hauptstraße 12, 10115 Berlin"]),
    ("street_address", "Adresse : 12 rue de la Paix, 75002 Paris", ["12 rue de la Paix, 75002 Paris"]),
    ("street_address", "Send it to PO Box 4471.", ["PO Box 4471"]),
    ("email", "Contact jane.doe+billing@example.co.uk today", ["jane.doe+billing@example.co.uk"]),
    ("phone", "Call me at (415) 555-2671 or +44 20 7946 0958.", ["(415) 555-2671", "+44 20 7946 0958"]),
    ("phone", "mobile 415 555 2671", ["415 555 2671"]),
    ("phone", "Tel.: 030 1234 5678", ["030 1234 5678"]),
    ("date_of_birth", "DOB: 03/15/1984", ["03/15/1984"]),
    ("date_of_birth", "She was born on 5 March 1990 in Leeds.", ["5 March 1990"]),
    ("date_of_birth", "Geburtsdatum 24.12.1975", ["24.12.1975"]),
    ("ip_address", "login from 203.0.113.42 and 2001:db8:85a3::8a2e:370:7334", ["203.0.113.42", "2001:db8:85a3::8a2e:370:7334"]),
    ("ssn", "SSN: 123-45-6789", ["123-45-6789"]),
    ("ssn", "social security number 123456789", ["123456789"]),
    ("us_itin", "ITIN 912-70-1234 on the W-7", ["912-70-1234"]),
    ("us_ein", "Employer Identification Number: 12-3456789", ["12-3456789"]),
    ("us_passport", "passport no. 123456789 issued 2019", ["123456789"]),
    ("us_passport", "Passport number C12345678", ["C12345678"]),
    ("medical_record_number", "MRN: 00482913", ["00482913"]),
    ("health_plan_id", "Member ID: XYZ123456789", ["XYZ123456789"]),
    ("health_plan_id", "Medicare MBI 1EG4-TE5-MK73", ["1EG4-TE5-MK73"]),
    ("npi", "Rendering provider NPI 1234567893", ["1234567893"]),
    ("dea_number", "DEA# AB1234563", ["AB1234563"]),
    ("icd10", "Diagnosis codes: E11.9, I10 and J45.909", ["E11.9", "I10", "J45.909"]),
    ("credit_card", "card 4111 1111 1111 1111 exp 12/27", ["4111 1111 1111 1111"]),
    ("credit_card", "Amex 3782-822463-10005", ["3782-822463-10005"]),
    ("credit_card", "pan=5555555555554444;", ["5555555555554444"]),
    ("card_cvv", "CVV: 123", ["123"]),
    ("card_cvv", "security code 4821", ["4821"]),
    ("iban", "IBAN DE89 3704 0044 0532 0130 00 EUR", ["DE89 3704 0044 0532 0130 00"]),
    ("iban", "to GB82WEST12345698765432.", ["GB82WEST12345698765432"]),
    ("aba_routing", "routing number 021000021", ["021000021"]),
    ("swift_bic", "SWIFT/BIC: DEUTDEFF500", ["DEUTDEFF500"]),
    ("uk_nino", "NI number AB 12 34 56 C", ["AB 12 34 56 C"]),
    ("uk_nhs", "NHS number 943 476 5919", ["943 476 5919"]),
    ("es_dni", "DNI 12345678Z", ["12345678Z"]),
    ("es_nie", "NIE X1234567L", ["X1234567L"]),
    ("it_fiscal_code", "codice fiscale RSSMRA80A01H501U", ["RSSMRA80A01H501U"]),
    ("fr_nir", "NIR 2 55 08 14 168 025 38", ["2 55 08 14 168 025 38"]),
    ("de_tax_id", "Steuer-ID: 86095742719", ["86095742719"]),
    ("special_category", "She was diagnosed with multiple sclerosis in 2021.", ["was diagnosed with multiple sclerosis in 2021"]),
    ("special_category", "He is a practising Muslim.", ["He is a practising Muslim"]),
    ("special_category", "the employee is a member of the Unite union", ["the employee is a member of the Unite union"]),
    ("special_category", "Ethnicity: Hispanic", ["Ethnicity: Hispanic"]),
    ("health_condition", "She was diagnosed with multiple sclerosis in 2021.", ["was diagnosed with multiple sclerosis in 2021"]),
    ("health_condition", "Genetics clinic: the patient carries the BRCA1 mutation.", ["carries the BRCA1 mutation"]),
    ("aws_access_key", "key=AKIAQ3EGRAXYZ7WB2LHD", ["AKIAQ3EGRAXYZ7WB2LHD"]),
    ("github_token", "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", ["ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"]),
    ("openai_key", "OPENAI_API_KEY=sk-proj-4f9Qz7LmN2xV8cT1bR6yW3kH5jD0sA9eU4iO7pL2mK8n", ["sk-proj-4f9Qz7LmN2xV8cT1bR6yW3kH5jD0sA9eU4iO7pL2mK8n"]),
    ("stripe_key", "STRIPE_SECRET_KEY=sk_live_zzgEOzdmenCkhvMdgaKjIg8x", ["sk_live_zzgEOzdmenCkhvMdgaKjIg8x"]),
    ("stripe_key", "key: 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.",
     ["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"]),
    ("slack_token", "SLACK_BOT_TOKEN=xoxb-551313735379-9075116372651-Z8UzDzV8fUkkibjL5DZPjN0M",
     ["xoxb-551313735379-9075116372651-Z8UzDzV8fUkkibjL5DZPjN0M"]),
    ("slack_token", "token xoxp-7528820018-263304348395-4862057986828-40e50454f31af3176813e02ea68ef786 expired",
     ["xoxp-7528820018-263304348395-4862057986828-40e50454f31af3176813e02ea68ef786"]),
    ("google_api_key", "https://maps.googleapis.com/maps/api/geocode/json?key=AIzaPtYgjmUhBel31iEl2hpChYgCfrL1spNxnyV&sensor=false",
     ["AIzaPtYgjmUhBel31iEl2hpChYgCfrL1spNxnyV"]),
    ("anthropic_key", "ANTHROPIC_API_KEY=sk-ant-api03-mihA-2O76UMFxFkM-R5Kjp1vRt_1fjORS-6ilI8ihN5KXSc7Tvo-hBKqFYY-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYAA",
     ["sk-ant-api03-mihA-2O76UMFxFkM-R5Kjp1vRt_1fjORS-6ilI8ihN5KXSc7Tvo-hBKqFYY-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYAA"]),
    ("jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"]),
    ("password", "password: hunter22!", ["hunter22!"]),
    ("password", "postgres://app:S3cretPass@db:5432/app", ["S3cretPass"]),
    ("password", '{"password": "Tr0ub4dor&3"}', ["Tr0ub4dor&3"]),
]


@pytest.mark.parametrize(("detector", "text", "expected"), POSITIVES)
def test_detector_finds(detector: str, text: str, expected: list[str]) -> None:
    assert found(detector, text) == expected


def test_private_key_block_is_one_span() -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1x\nq2w3e4r5t6y7u8i9o0p\n-----END RSA PRIVATE KEY-----"
    text = f"deploy key:\n{block}\nthanks"
    assert found("private_key", text) == [block]
    assert found("private_key", "-----BEGIN OPENSSH PRIVATE KEY----- (truncated)") == ["-----BEGIN OPENSSH PRIVATE KEY-----"]


NEGATIVES = [
    ("credit_card", "Order 4111 1111 1111 1112 shipped"),  # fails Luhn
    ("credit_card", "tracking number 4111111111111111"),  # valid shape, but a reference
    ("credit_card", "id 1234567812345670 and 12345678901234567890123"),
    ("credit_card", "uuid 550e8400-e29b-41d4-a716-446655440000"),
    ("ssn", "ref 666-12-3456, 000-12-3456, 912-34-5678, 123-00-4567"),
    ("ssn", "ticket 123456789 escalated"),  # bare 9 digits without an SSN label
    ("ssn", "Part no. 123-45-6789 in stock"),
    ("ssn", "timestamp 2024-06-11 10:30:00, phone 555-123-4567"),
    ("iban", "DE89 3704 0044 0532 0130 01 bounced"),
    ("iban", "GB82WEST1234569876543"),
    ("phone", "Invoice INV-555-234-5678 due; order 5552345678; build 1.2.3.4"),
    ("phone", "between 9 and 5, 2024-06-11"),
    ("ip_address", "version 1.2.3.4 and firmware v10.2.0.1; 127.0.0.1; 999.1.1.1; 255.255.255.0"),
    ("ip_address", "meeting at 10:30:00, MAC 00:1A:2B:3C:4D:5E"),
    ("email", "logo@2x.png and https://user:pass@example.com/path"),
    ("date_of_birth", "Invoice date 03/15/2024, delivered 2024-03-20"),
    ("icd10", "Error E11 on the washer, model A10 and B12 vitamins"),
    ("medical_record_number", "Order 00482913 ships Monday"),
    ("aba_routing", "Account 021000021 ordered"),
    ("npi", "Sensor 1234567893 reported 21C"),
    ("uk_nhs", "Call 943 476 5919 now"),
    ("de_tax_id", "Reference 86095742719"),
    ("swift_bic", "The DATABASE and PASSWORD fields are REQUIRED"),
    ("card_cvv", "card 4111 1111 1111 1111 expires 123 days from now"),
    ("person_name", "Customer Success Team and the Grace Period Policy in New York"),
    ("person_name", "Santa Clara and Los Angeles offices; Morgan Stanley report"),
    ("person_name", "Sales Price: $19.99"),
    ("special_category", "Diabetes is a chronic condition. The church on the hill. SQL UNION of tables."),
    ("special_category", "Genetic testing can identify BRCA variants."),
    ("health_condition", "He is a practicing Muslim. She voted Republican in the last election. I am a member of "
                         "the Teamsters union. Ethnicity: Hispanic. He came out as gay last year."),
    ("aws_access_key", "The AKIA prefix marks long-term keys"),
    ("openai_key", "Set OPENAI_API_KEY=sk-... in your shell"),
    ("jwt", "JWTs start with eyJ because of base64"),
    ("stripe_key", "test mode: sk_test_zzgEOzdmenCkhvMdgaKjIg8x; publishable pk_live_zzgEOzdmenCkhvMdgaKjIg8x"),
    ("stripe_key", "STRIPE_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx or sk_live_... from the dashboard"),
    ("slack_token", "SLACK_BOT_TOKEN=xoxb-your-bot-token-here; xoxb-000000000000-0000000000000-aaaaaaaaaaaaaaaaaaaaaaaa"),
    ("google_api_key", "AIza keys are 39 characters; AIzaAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA is a placeholder"),
    ("google_api_key", "AIzaPtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVx is one character too long"),
    ("anthropic_key", "ANTHROPIC_API_KEY=sk-ant-api03-... or sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("openai_key", "sk-ant-api03-mihA-2O76UMFxFkM-R5Kjp1vRt_1fjORS-6ilI8ihN5KXSc7Tvo-hBKqFYY-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYAA"),
    ("password", "Password must be 12 characters. Use the password reset link. password: ********"),
    ("password", "password: required; password is ${DB_PASSWORD}; password = <your password>"),
    ("es_dni", "Code 12345678A"),
    ("it_fiscal_code", "RSSMRA80A01H501V"),
    ("uk_nino", "QQ123456C and GB123456A"),
]


@pytest.mark.parametrize(("detector", "text"), NEGATIVES)
def test_detector_rejects_hard_negative(detector: str, text: str) -> None:
    assert found(detector, text) == []


def test_registry_has_exactly_the_api_ids() -> None:
    assert tuple(DETECTORS) == DETECTOR_IDS
    assert len(set(DETECTOR_IDS)) == len(DETECTOR_IDS) == 39
    assert all(DETECTORS[d].description for d in DETECTOR_IDS)


def test_offsets_are_characters_not_bytes() -> None:
    text = "Ünïcödé ✓ — SSN: 123-45-6789 — café"
    start, end = text.index("123"), text.index("123") + 11
    assert detect(text, ["ssn"]) == [("ssn", start, end)]


def test_lone_surrogates_do_not_break_offsets() -> None:
    text = "\ud800 SSN 123-45-6789"
    assert detect(text, ["ssn"]) == [("ssn", 6, 17)]


def test_card_inside_longer_digit_run_is_not_reported() -> None:
    assert found("credit_card", "41111111111111110000") == []
    assert found("credit_card", "4111 1111 1111 1111 2024") == ["4111 1111 1111 1111"]


@pytest.mark.parametrize(
    ("detector", "text", "expected"),
    [
        ("ssn", "Account holder SSN: 536-22-1234", ["536-22-1234"]),
        ("ssn", "Case 8812 - customer SSN 536-22-1234", ["536-22-1234"]),
        ("ssn", "phone 555-0100; SSN 536-22-1234", ["536-22-1234"]),
        ("ssn", "Applicant's ITIN or SSN: 536-22-1234", ["536-22-1234"]),
        ("ssn", "Taxpayer id (SSN or ITIN): 536-22-1234", ["536-22-1234"]),
        ("credit_card", "Invoice to Bob, card 4111 1111 1111 1111", ["4111 1111 1111 1111"]),
        ("credit_card", "Ref: customer paid with 4111111111111111 yesterday", ["4111111111111111"]),
        ("credit_card", "PO box payment, card 4111111111111111", ["4111111111111111"]),
    ],
)
def test_explicit_label_overrules_a_reference_word(detector: str, text: str, expected: list[str]) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    ("detector", "text"),
    [
        ("credit_card", "order 4111111111111111 shipped"),
        ("credit_card", "card payment for order 4111111111111111"),  # the reference word is nearer
        ("credit_card", "Ref: 4111111111111111"),
        ("ssn", "SSN update pending, ref 536-22-1234"),
        ("ssn", "Account 536-22-1234 is overdrawn"),
    ],
)
def test_reference_word_nearer_than_any_label_still_rejects(detector: str, text: str) -> None:
    assert found(detector, text) == []


@pytest.mark.parametrize(
    "text",
    [
        "password = os.environ['DB_PASS']",
        'password = get_secret("db")',
        '{"password": user_input}',
        "conn = connect(host, password=settings.DB_PASSWORD)",
        "login(user, password=pw_value)",
        "pwd = getpass()",
        "self.password = request.form['password']",
        "password: config.db.secret",
        "{password: userInput}",
    ],
)
def test_password_label_before_code_is_not_a_password(text: str) -> None:
    assert found("password", text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('password = "hunter2!x"', ["hunter2!x"]),
        ("password => 'Tr0ub4dor&3'", ["Tr0ub4dor&3"]),
        ("(my password is hunter22)", ["hunter22"]),
        ("{password: 'Rocket$42!'}", ["Rocket$42!"]),
        ("my password is Pa(ss)w0rd now", ["Pa(ss)w0rd"]),
        ("DB_PASSWORD=S3cret.Pass99", ["S3cret.Pass99"]),
    ],
)
def test_password_literals_are_found_without_trailing_brackets(text: str, expected: list[str]) -> None:
    assert found("password", text) == expected


@pytest.mark.parametrize(
    ("detector", "text", "expected"),
    [
        ("credit_card", "card 4111\u00a01111\u00a01111\u00a01111 exp 12/27", ["4111\u00a01111\u00a01111\u00a01111"]),
        ("credit_card", "card 4111.1111.1111.1111", ["4111.1111.1111.1111"]),
        ("credit_card", "card\t4111\t1111\t1111\t1111\t12/27", ["4111\t1111\t1111\t1111"]),
        ("credit_card", "Maestro 6759649826438453", ["6759649826438453"]),
        ("ssn", "SSN 536\u201022\u20101234", ["536\u201022\u20101234"]),
        ("ssn", "SSN 536\u201122\u20111234", ["536\u201122\u20111234"]),
        ("ssn", "SSN 536\u201322\u20131234", ["536\u201322\u20131234"]),
        ("ssn", "\u200bSSN: 536\u200b-22-1234\u200b.", ["536\u200b-22-1234"]),
        ("iban", "IBAN ch9300762011623852957", ["ch9300762011623852957"]),
        ("iban", "iban: de89 3704 0044 0532 0130 00", ["de89 3704 0044 0532 0130 00"]),
    ],
)
def test_odd_separators_and_case_are_read_with_offsets_in_the_original(
    detector: str, text: str, expected: list[str]
) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    ("detector", "text"),
    [
        ("credit_card", "rows 4111.1111.11111.111 and 4111\t11111\t1111111"),  # not printed card layouts
        ("credit_card", "mixed 4111 1111.1111 1111"),
        ("ssn", "INV\u2010536\u201022\u20101234"),  # glued to a reference by a Unicode hyphen
        ("iban", "token Ch9300762011623852957 and cH93 0076 2011 6238 5295 7"),
    ],
)
def test_odd_separators_and_case_keep_hard_negatives(detector: str, text: str) -> None:
    assert found(detector, text) == []
