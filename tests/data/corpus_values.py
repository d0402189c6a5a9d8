"""Value generators for the labelled detection corpus: real checksums for valid values and
look-alikes that fail them. Written independently of ``sidecar.compliance`` on purpose, so the
corpus does not inherit the detectors' mistakes."""

from __future__ import annotations

import base64
import json
import random
import string

FIRST = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony
Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin
Amanda Brian Melissa George Deborah Timothy Stephanie Ronald Rebecca Jason Laura Edward Sharon
Jeffrey Cynthia Ryan Kathleen Jacob Amy Gary Angela Nicholas Shirley Eric Anna Jonathan Brenda
Stephen Pamela Larry Nicole Justin Samantha Scott Katherine Brandon Christine Benjamin Helen Samuel
Debra Gregory Rachel Alexander Carolyn Patrick Janet Frank Maria Raymond Catherine Jack Heather
Dennis Diane Jerry Olivia Tyler Julie Aaron Joyce Jose Victoria Adam Kelly Nathan Christina Henry
Lauren Zachary Joan Douglas Evelyn Peter Judith Kyle Megan Noah Andrea Ethan Cheryl Jeremy Hannah
Walter Jacqueline Christian Martha Keith Gloria Roger Teresa Terry Ann Austin Sara Sean Madison
Priya Wei Mohammed Fatima Hiroshi Yuki Olga Sven Ingrid Giulia Luca Camille Hugo Sofia Mateo
Aisha Omar Chen Anjali Rahul Katarzyna Piotr Lukas Lena Javier Lucia Siobhan Declan Kwame Ngozi""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez
Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green
Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz
Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan
Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood
James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster
Okafor Tanaka Kowalski Schmidt Dubois Rossi Fernandez Haddad Chatterjee Novak Johansson Mueller
Yilmaz Ivanova Sato Moreau Bianchi Kaur Mensah Oyelaran Vasquez Lindqvist Achterberg Szymanski""".split()
RARE_FIRST = ["Xochitl", "Eulalia", "Thaddeus", "Oriel", "Zebulon", "Ottoline", "Lysander", "Peregrine"]
RARE_LAST = ["Quetzalcoatl", "Vanterpool", "Abernathy-Crisp", "Oyelowo", "Wrexham", "Thistlewood",
             "Zubrowski", "Pemberton-Hale"]
STREETS = """Main Oak Maple Cedar Pine Elm Washington Lake Hill Park Sunset Lincoln Jackson Highland
Franklin Willow Chestnut Madison Riverside Jefferson Church Spring Meadow Forest Lexington""".split()
SUFFIXES = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Drive",
            "Court", "Way", "Place", "Terrace", "Parkway"]
CITIES = [("Springfield", "IL"), ("Austin", "TX"), ("Denver", "CO"), ("Portland", "OR"),
          ("Columbus", "OH"), ("Raleigh", "NC"), ("Madison", "WI"), ("Tucson", "AZ"), ("Boise", "ID")]
ICD10 = ["E11.9", "I10", "J45.909", "F32.1", "M54.5", "K21.9", "N18.3", "Z79.4", "C50.911", "G43.909",
         "E78.5", "F41.1", "J44.1", "I25.10", "E03.9", "M17.11", "R51.9", "S72.001A", "O24.419", "F90.0"]
CONDITIONS = ["type 2 diabetes", "multiple sclerosis", "major depressive disorder", "breast cancer",
              "epilepsy", "HIV", "bipolar disorder", "early-onset dementia", "Crohn's disease",
              "chronic kidney disease", "schizophrenia", "an anxiety disorder"]
COUNTRY_CODES = ["DE", "FR", "GB", "CH", "NL", "ES", "IT", "US", "SG", "JP", "BE", "AT", "SE", "IE"]
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM = string.ascii_letters + string.digits


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return luhn_digit(number[:-1]) == number[-1]


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def card(rng: random.Random) -> str:
    prefix, length = rng.choice([("4", 16), ("4", 16), ("51", 16), ("55", 16), ("2221", 16),
                                 ("2720", 16), ("34", 15), ("37", 15), ("6011", 16), ("65", 16),
                                 ("3530", 16), ("36", 14), ("62", 16), ("4", 19)])
    body = prefix + digits(rng, length - len(prefix) - 1)
    number = body + luhn_digit(body)
    return fmt_card(rng, number)


def fmt_card(rng: random.Random, number: str) -> str:
    style = rng.random()
    if style < 0.3:
        return number
    sep = " " if style < 0.75 else "-"
    if len(number) == 15:
        return sep.join((number[:4], number[4:10], number[10:]))
    if len(number) == 14:
        return sep.join((number[:4], number[4:10], number[10:]))
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


def odd_card(rng: random.Random) -> str:
    """A 16-digit card (Visa, Mastercard or Maestro) grouped by no-break spaces, dots or tabs."""
    prefix = rng.choice(["4", "51", "6759", "6304", "5018"])
    body = prefix + digits(rng, 15 - len(prefix))
    number = body + luhn_digit(body)
    return rng.choice(["\u00a0", ".", "\t"]).join(number[i:i + 4] for i in range(0, 16, 4))


def bad_card(rng: random.Random) -> str:
    """A 16-digit number that fails Luhn."""
    body = rng.choice("456") + digits(rng, 14)
    good = luhn_digit(body)
    wrong = str((int(good) + rng.randint(1, 9)) % 10)
    return fmt_card(rng, body + wrong)


def ssn(rng: random.Random, sep: str = "-") -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}{sep}{rng.randint(1, 99):02d}{sep}{rng.randint(1, 9999):04d}"


def bad_ssn(rng: random.Random) -> str:
    area = rng.choice(["000", "666", f"9{rng.randint(0, 99):02d}"])
    group = rng.choice([f"{rng.randint(1, 99):02d}", "00"])
    return f"{area}-{group}-{rng.randint(1, 9999):04d}"


def itin(rng: random.Random) -> str:
    group = rng.choice(list(range(70, 89)) + [90, 91, 92] + list(range(94, 100)))
    return f"9{rng.randint(0, 99):02d}-{group}-{rng.randint(1, 9999):04d}"


def ein(rng: random.Random) -> str:
    prefix = rng.choice(["12", "20", "27", "33", "45", "52", "61", "74", "81", "94", "98"])
    return f"{prefix}-{digits(rng, 7)}"


IBAN_FORMATS = {"DE": "8n10n", "GB": "4a14n", "FR": "10n11c2n", "ES": "20n", "IT": "1a10n12c",
                "NL": "4a10n", "BE": "12n", "CH": "5n12c", "AT": "16n", "PL": "24n", "IE": "4a14n"}


def _bban(rng: random.Random, spec: str) -> str:
    out, num = [], ""
    for ch in spec:
        if ch.isdigit():
            num += ch
            continue
        n, num = int(num), ""
        pool = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[ch]
        out.append("".join(rng.choice(pool) for _ in range(n)))
    return "".join(out)


def _iban_check(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


def iban(rng: random.Random, broken: bool = False) -> str:
    country = rng.choice(sorted(IBAN_FORMATS))
    bban = _bban(rng, IBAN_FORMATS[country])
    check = _iban_check(country, bban)
    if broken:
        check = f"{(int(check) + rng.randint(1, 50)) % 97 + 2:02d}"
    compact = country + check + bban
    if rng.random() < 0.6:
        return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return compact


def aba(rng: random.Random) -> str:
    while True:
        prefix = rng.choice(["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
                             "21", "22", "26", "31", "32", "61", "65", "72"])
        body = prefix + digits(rng, 6)
        n = [int(c) for c in body]
        partial = 3 * (n[0] + n[3] + n[6]) + 7 * (n[1] + n[4] + n[7]) + (n[2] + n[5])
        return body + str((10 - partial % 10) % 10)


def swift(rng: random.Random) -> str:
    bank = "".join(rng.choice(string.ascii_uppercase) for _ in range(4))
    loc = rng.choice(string.ascii_uppercase[2:]) + rng.choice(string.ascii_uppercase + "2345")
    branch = rng.choice(["", "", "XXX", "".join(rng.choice(string.ascii_uppercase) for _ in range(3))])
    return bank + rng.choice(COUNTRY_CODES) + loc + branch


def npi(rng: random.Random) -> str:
    body = rng.choice("12") + digits(rng, 8)
    return body + luhn_digit("80840" + body)


def dea(rng: random.Random, surname: str) -> str:
    first = rng.choice("ABFGMPR")
    d = [rng.randint(0, 9) for _ in range(6)]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return first + surname[0].upper() + "".join(map(str, d)) + str(check)


def nhs(rng: random.Random) -> str:
    while True:
        body = digits(rng, 9)
        total = sum(int(c) * w for c, w in zip(body, range(10, 1, -1)))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10:
            number = body + str(check)
            return rng.choice([f"{number[:3]} {number[3:6]} {number[6:]}", number])


def nino(rng: random.Random) -> str:
    first = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    while first + second in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    d = digits(rng, 6)
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{first}{second} {d[:2]} {d[2:4]} {d[4:]} {suffix}"
    return f"{first}{second}{d}{suffix}"


_DNI = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni(rng: random.Random) -> str:
    n = rng.randint(10_000_000, 99_999_999)
    return f"{n}{_DNI[n % 23]}"


def nie(rng: random.Random) -> str:
    lead = rng.choice("XYZ")
    n = digits(rng, 7)
    return f"{lead}{n}{_DNI[int(str('XYZ'.index(lead)) + n) % 23]}"


_CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def fiscal_code(rng: random.Random) -> str:
    letters = string.ascii_uppercase
    body = "".join(rng.choice("BCDFGLMNPRSTVZ") for _ in range(6))
    body += f"{rng.randint(40, 99):02d}" + rng.choice("ABCDEHLMPRST")
    day = rng.randint(1, 28) + rng.choice([0, 40])
    body += f"{day:02d}" + rng.choice("ABCDEFGHL") + digits(rng, 3)
    total = 0
    for i, ch in enumerate(body):
        value = int(ch) if ch.isdigit() else letters.index(ch)
        total += _CF_ODD[value] if i % 2 == 0 else value
    return body + letters[total % 26]


def nir(rng: random.Random) -> str:
    dept = rng.choice(["75", "69", "13", "33", "2A", "2B", "59", "31"])
    body = f"{rng.choice('12')}{rng.randint(50, 99):02d}{rng.randint(1, 12):02d}{dept}{digits(rng, 6)}"
    numeric = body.replace("2A", "19").replace("2B", "18") if dept in ("2A", "2B") else body
    key = 97 - int(numeric) % 97
    text = body + f"{key:02d}"
    if rng.random() < 0.5:
        return f"{text[0]} {text[1:3]} {text[3:5]} {text[5:7]} {text[7:10]} {text[10:13]} {text[13:]}"
    return text


def steuer_id(rng: random.Random) -> str:
    while True:
        pool = rng.sample(string.digits, 9)
        repeated = rng.choice(pool)
        ten = pool + [repeated]
        rng.shuffle(ten)
        if ten[0] == "0" or "".join(ten).count(repeated * 3):
            continue
        product = 10
        for ch in ten:
            total = (int(ch) + product) % 10 or 10
            product = (total * 2) % 11
        check = (11 - product) % 10
        return "".join(ten) + str(check)


def mbi(rng: random.Random) -> str:
    letters = "ACDEFGHJKMNPQRTUVWXY"
    both = letters + string.digits
    parts = [rng.choice("123456789"), rng.choice(letters), rng.choice(both), rng.choice(string.digits),
             rng.choice(letters), rng.choice(both), rng.choice(string.digits), rng.choice(letters),
             rng.choice(letters), rng.choice(string.digits), rng.choice(string.digits)]
    return "".join(parts)


def aws_key(rng: random.Random) -> str:
    return rng.choice(["AKIA", "ASIA"]) + "".join(rng.choice(B32) for _ in range(16))


def aws_secret(rng: random.Random) -> str:
    return "".join(rng.choice(ALNUM + "/+") for _ in range(40))


def github_token(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return "github_pat_" + "".join(rng.choice(ALNUM) for _ in range(22)) + "_" + "".join(
            rng.choice(ALNUM) for _ in range(59))
    return rng.choice(["ghp", "gho", "ghs"]) + "_" + "".join(rng.choice(ALNUM) for _ in range(36))


def openai_key(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "sk-proj-" + "".join(rng.choice(ALNUM + "_-") for _ in range(rng.randint(90, 140)))
    return "sk-" + "".join(rng.choice(ALNUM) for _ in range(48))


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def stripe_key(rng: random.Random) -> str:
    return rng.choice(["sk_live_", "rk_live_"]) + "".join(rng.choice(ALNUM) for _ in range(rng.choice([24, 99])))


def slack_token(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"xoxb-{digits(rng, 12)}-{digits(rng, 13)}-" + "".join(rng.choice(ALNUM) for _ in range(24))
    return f"xoxp-{digits(rng, 10)}-{digits(rng, 12)}-{digits(rng, 13)}-" + "".join(
        rng.choice("0123456789abcdef") for _ in range(32))


def google_api_key(rng: random.Random) -> str:
    return "AIza" + "".join(rng.choice(ALNUM + "_-") for _ in range(35))


def anthropic_key(rng: random.Random) -> str:
    return "sk-ant-api03-" + "".join(rng.choice(ALNUM + "_-") for _ in range(93)) + "AA"


def jwt(rng: random.Random) -> str:
    header = _b64({"alg": rng.choice(["HS256", "RS256"]), "typ": "JWT"})
    payload = _b64({"sub": digits(rng, 8), "name": "user", "iat": 1_700_000_000 + rng.randint(0, 10**7)})
    sig = "".join(rng.choice(ALNUM + "_-") for _ in range(43))
    return f"{header}.{payload}.{sig}"


def private_key(rng: random.Random) -> str:
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
    lines = ["".join(rng.choice(ALNUM + "+/") for _ in range(64)) for _ in range(rng.randint(3, 6))]
    return f"-----BEGIN {kind}PRIVATE KEY-----\n" + "\n".join(lines) + f"\n-----END {kind}PRIVATE KEY-----"


def password(rng: random.Random) -> str:
    words = ["Summer", "Tiger", "Blue", "Falcon", "Coffee", "Winter", "Dragon", "Maple", "Rocket"]
    return rng.choice(words) + rng.choice(["!", "*", "$", "", ""]) + str(rng.randint(10, 9999)) + rng.choice(["", "x", "!"])


def phone(rng: random.Random) -> str:
    area, exch, line = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    while str(area)[1:] == "11":
        area += 1
    style = rng.randint(0, 6)
    if style == 0:
        return f"({area}) {exch}-{line:04d}"
    if style == 1:
        return f"{area}-{exch}-{line:04d}"
    if style == 2:
        return f"+1 {area} {exch} {line:04d}"
    if style == 3:
        return f"+44 20 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}"
    if style == 4:
        return f"+49 30 {rng.randint(100, 999)} {rng.randint(1000, 99999)}"
    if style == 5:
        return f"+33 {rng.randint(1, 7)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return f"{area}.{exch}.{line:04d}"


def dob(rng: random.Random) -> str:
    y, m, d = rng.randint(1938, 2006), rng.randint(1, 12), rng.randint(1, 28)
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
    return rng.choice([f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}",
                       f"{months[m - 1]} {d}, {y}", f"{d} {months[m - 1][:3]} {y}"])


def ipv4(rng: random.Random) -> str:
    first = rng.choice([10, 172, 192, 34, 52, 81, 203, 98, 185])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(4)]
    return "2001:db8:" + ":".join(groups[:2]) + "::" + groups[3]


def street(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.65:
        city, state = rng.choice(CITIES)
        base = f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
        if rng.random() < 0.5:
            base += f", {city}, {state} {rng.randint(10000, 99999)}"
        return base
    if style < 0.8:
        return f"{rng.choice(['Haupt', 'Linden', 'Goethe', 'Bahnhof', 'Schiller'])}{rng.choice(['straße', 'strasse', 'weg', 'allee'])} {rng.randint(1, 120)}"
    if style < 0.9:
        return f"{rng.randint(1, 80)} rue {rng.choice(['de la Paix', 'Victor Hugo', 'du Commerce', 'des Lilas'])}"
    return f"{rng.choice(['Via', 'Calle'])} {rng.choice(['Roma', 'Garibaldi', 'Mayor', 'Alcalá'])} {rng.randint(1, 200)}"


def name(rng: random.Random, rare: float = 0.0) -> str:
    if rng.random() < rare:
        return f"{rng.choice(RARE_FIRST)} {rng.choice(RARE_LAST)}"
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def email_for(rng: random.Random, full_name: str) -> str:
    first, last = full_name.lower().split()[0], full_name.lower().split()[-1].replace("-", "")
    return f"{first}.{last}{rng.choice(['', str(rng.randint(1, 99))])}@{rng.choice(['gmail.com', 'example.org', 'acme-corp.com', 'outlook.com', 'uni-hamburg.de'])}"
