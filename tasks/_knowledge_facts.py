"""Fact tables for the knowledge suite: from packages (pycountry, periodictable), computed
(calendar, units, primes) or curated here where no well-kept package has them (capitals,
programming languages). tests/test_knowledge_suite.py cross-checks the capitals table
against the `countryinfo` package, a second independent source.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from functools import lru_cache

# ISO 3166 alpha-2 code → (display name, capital, extra capital aliases). Countries with a
# disputed or split capital (Bolivia, South Africa, Israel, Côte d'Ivoire, Sri Lanka, Tanzania,
# Benin, Eswatini, Kazakhstan's recent renames) are left out on purpose.
CAPITALS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "AF": ("Afghanistan", "Kabul", ()),
    "AL": ("Albania", "Tirana", ("Tirane",)),
    "DZ": ("Algeria", "Algiers", ()),
    "AO": ("Angola", "Luanda", ()),
    "AR": ("Argentina", "Buenos Aires", ()),
    "AM": ("Armenia", "Yerevan", ()),
    "AU": ("Australia", "Canberra", ()),
    "AT": ("Austria", "Vienna", ("Wien",)),
    "AZ": ("Azerbaijan", "Baku", ()),
    "BD": ("Bangladesh", "Dhaka", ()),
    "BY": ("Belarus", "Minsk", ()),
    "BE": ("Belgium", "Brussels", ()),
    "BR": ("Brazil", "Brasília", ("Brasilia",)),
    "BG": ("Bulgaria", "Sofia", ()),
    "KH": ("Cambodia", "Phnom Penh", ()),
    "CM": ("Cameroon", "Yaoundé", ("Yaounde",)),
    "CA": ("Canada", "Ottawa", ()),
    "CL": ("Chile", "Santiago", ()),
    "CN": ("China", "Beijing", ("Peking",)),
    "CO": ("Colombia", "Bogotá", ("Bogota",)),
    "HR": ("Croatia", "Zagreb", ()),
    "CU": ("Cuba", "Havana", ()),
    "CY": ("Cyprus", "Nicosia", ()),
    "CZ": ("Czechia", "Prague", ()),
    "DK": ("Denmark", "Copenhagen", ()),
    "EC": ("Ecuador", "Quito", ()),
    "EG": ("Egypt", "Cairo", ()),
    "EE": ("Estonia", "Tallinn", ()),
    "ET": ("Ethiopia", "Addis Ababa", ()),
    "FI": ("Finland", "Helsinki", ()),
    "FR": ("France", "Paris", ()),
    "GE": ("Georgia", "Tbilisi", ()),
    "DE": ("Germany", "Berlin", ()),
    "GH": ("Ghana", "Accra", ()),
    "GR": ("Greece", "Athens", ()),
    "HU": ("Hungary", "Budapest", ()),
    "IS": ("Iceland", "Reykjavík", ("Reykjavik",)),
    "IN": ("India", "New Delhi", ()),
    "ID": ("Indonesia", "Jakarta", ()),
    "IR": ("Iran", "Tehran", ()),
    "IQ": ("Iraq", "Baghdad", ()),
    "IE": ("Ireland", "Dublin", ()),
    "IT": ("Italy", "Rome", ()),
    "JM": ("Jamaica", "Kingston", ()),
    "JP": ("Japan", "Tokyo", ()),
    "JO": ("Jordan", "Amman", ()),
    "KE": ("Kenya", "Nairobi", ()),
    "KW": ("Kuwait", "Kuwait City", ()),
    "LV": ("Latvia", "Riga", ()),
    "LB": ("Lebanon", "Beirut", ()),
    "LT": ("Lithuania", "Vilnius", ()),
    "LU": ("Luxembourg", "Luxembourg", ("Luxembourg City",)),
    "MG": ("Madagascar", "Antananarivo", ()),
    "MY": ("Malaysia", "Kuala Lumpur", ()),
    "MX": ("Mexico", "Mexico City", ()),
    "MN": ("Mongolia", "Ulaanbaatar", ("Ulan Bator",)),
    "MA": ("Morocco", "Rabat", ()),
    "MZ": ("Mozambique", "Maputo", ()),
    "NP": ("Nepal", "Kathmandu", ()),
    "NZ": ("New Zealand", "Wellington", ()),
    "NG": ("Nigeria", "Abuja", ()),
    "NO": ("Norway", "Oslo", ()),
    "PK": ("Pakistan", "Islamabad", ()),
    "PA": ("Panama", "Panama City", ()),
    "PE": ("Peru", "Lima", ()),
    "PH": ("Philippines", "Manila", ()),
    "PL": ("Poland", "Warsaw", ()),
    "PT": ("Portugal", "Lisbon", ()),
    "QA": ("Qatar", "Doha", ()),
    "RO": ("Romania", "Bucharest", ()),
    "RU": ("Russia", "Moscow", ()),
    "SA": ("Saudi Arabia", "Riyadh", ()),
    "SN": ("Senegal", "Dakar", ()),
    "RS": ("Serbia", "Belgrade", ()),
    "SG": ("Singapore", "Singapore", ()),
    "SK": ("Slovakia", "Bratislava", ()),
    "SI": ("Slovenia", "Ljubljana", ()),
    "KR": ("South Korea", "Seoul", ()),
    "ES": ("Spain", "Madrid", ()),
    "SD": ("Sudan", "Khartoum", ()),
    "SE": ("Sweden", "Stockholm", ()),
    "CH": ("Switzerland", "Bern", ("Berne",)),
    "SY": ("Syria", "Damascus", ()),
    "TH": ("Thailand", "Bangkok", ()),
    "TN": ("Tunisia", "Tunis", ()),
    "TR": ("Turkey", "Ankara", ()),
    "UG": ("Uganda", "Kampala", ()),
    "UA": ("Ukraine", "Kyiv", ("Kiev",)),
    "AE": ("United Arab Emirates", "Abu Dhabi", ()),
    "GB": ("United Kingdom", "London", ()),
    "US": ("United States", "Washington, D.C.", ("Washington", "Washington DC")),
    "UY": ("Uruguay", "Montevideo", ()),
    "UZ": ("Uzbekistan", "Tashkent", ()),
    "VE": ("Venezuela", "Caracas", ()),
    "VN": ("Vietnam", "Hanoi", ()),
    "ZM": ("Zambia", "Lusaka", ()),
    "ZW": ("Zimbabwe", "Harare", ()),
}

# Extra accepted names for countries whose everyday name differs from ISO's.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "CZ": ("Czech Republic",),
    "GB": ("UK", "Britain", "Great Britain"),
    "US": ("USA", "United States of America", "America", "US", "U.S."),
    "KR": ("Korea", "Republic of Korea"),
    "RU": ("Russian Federation",),
    "TR": ("Türkiye", "Turkiye"),
    "AE": ("UAE",),
    "VN": ("Viet Nam",),
    "IR": ("Islamic Republic of Iran",),
    "SY": ("Syrian Arab Republic",),
}

# Programming languages: name → (file extension, creator(s), first-appearance year). Curated
# from each language's own documentation; extensions are unique across the table.
LANGUAGES: dict[str, tuple[str, tuple[str, ...], int]] = {
    "Python": (".py", ("Guido van Rossum",), 1991),
    "Ruby": (".rb", ("Yukihiro Matsumoto", "Matz"), 1995),
    "Rust": (".rs", ("Graydon Hoare",), 2010),
    "Go": (".go", ("Robert Griesemer", "Rob Pike", "Ken Thompson"), 2009),
    "JavaScript": (".js", ("Brendan Eich",), 1995),
    "TypeScript": (".ts", ("Anders Hejlsberg",), 2012),
    "Java": (".java", ("James Gosling",), 1995),
    "C#": (".cs", ("Anders Hejlsberg",), 2000),
    "Kotlin": (".kt", ("JetBrains",), 2011),
    "Swift": (".swift", ("Chris Lattner",), 2014),
    "Perl": (".pl", ("Larry Wall",), 1987),
    "PHP": (".php", ("Rasmus Lerdorf",), 1995),
    "Haskell": (".hs", ("Simon Peyton Jones", "Haskell committee"), 1990),
    "Scala": (".scala", ("Martin Odersky",), 2004),
    "Lua": (".lua", ("Roberto Ierusalimschy",), 1993),
    "Elixir": (".ex", ("José Valim", "Jose Valim"), 2012),
    "Erlang": (".erl", ("Joe Armstrong",), 1986),
    "Julia": (".jl", ("Jeff Bezanson", "Stefan Karpinski", "Viral Shah", "Alan Edelman"), 2012),
    "Dart": (".dart", ("Lars Bak", "Kasper Lund"), 2011),
    "C++": (".cpp", ("Bjarne Stroustrup",), 1985),
    "OCaml": (".ml", ("Xavier Leroy",), 1996),
    "Clojure": (".clj", ("Rich Hickey",), 2007),
    "Zig": (".zig", ("Andrew Kelley",), 2016),
    "Nim": (".nim", ("Andreas Rumpf",), 2008),
}

# Unit chains: each step says how many of the smaller unit make one of the larger one.
UNIT_CHAINS: list[list[tuple[str, str, int]]] = [
    [("millimetres", "centimetre", 10), ("centimetres", "metre", 100), ("metres", "kilometre", 1000)],
    [("milligrams", "gram", 1000), ("grams", "kilogram", 1000), ("kilograms", "tonne", 1000)],
    [("seconds", "minute", 60), ("minutes", "hour", 60), ("hours", "day", 24), ("days", "week", 7)],
    [("millilitres", "litre", 1000)],
    [("bits", "byte", 8), ("bytes", "kibibyte", 1024), ("kibibytes", "mebibyte", 1024)],
    [("inches", "foot", 12), ("feet", "yard", 3)],
    [("ounces", "pound", 16)],
    [("months", "year", 12)],
]

MONTHS = list(calendar.month_name)[1:]


@dataclass
class Fact:
    """One question/answer pair in a relation, with every accepted spelling of the answer."""

    question: str  # filled template, canonical phrasing
    paraphrase: str
    answer: str
    aliases: list[str] = field(default_factory=list)
    reverse: tuple[str, str, list[str]] | None = None  # (question, answer, aliases)
    two_hop: tuple[str, str, list[str]] | None = None
    key: str = ""  # stable id of the fact within its relation


def country_aliases(code: str) -> list[str]:
    import pycountry

    name = CAPITALS[code][0]
    record = pycountry.countries.get(alpha_2=code)
    names = {name, *COUNTRY_ALIASES.get(code, ())}
    for attr in ("name", "common_name", "official_name"):
        value = getattr(record, attr, None)
        if value:
            names.add(value)
    return sorted(names)


def capital_facts() -> list[Fact]:
    import pycountry

    facts = []
    for code, (country, capital, extra) in CAPITALS.items():
        record = pycountry.countries.get(alpha_2=code)
        assert record is not None, f"{code} is not an ISO 3166 alpha-2 code pycountry knows"
        facts.append(
            Fact(
                question=f"What is the capital of {country}?",
                paraphrase=f"Which city serves as the capital city of {country}?",
                answer=capital,
                aliases=[capital, *extra],
                reverse=(f"{capital} is the capital of which country?", country, country_aliases(code)),
                two_hop=(
                    f"What is the capital of the country whose ISO 3166 alpha-3 code is {record.alpha_3}?",
                    capital,
                    [capital, *extra],
                ),
                key=code,
            )
        )
    return facts


def country_code_facts() -> list[Fact]:
    import pycountry

    facts = []
    for code, (country, capital, _) in CAPITALS.items():
        record = pycountry.countries.get(alpha_2=code)
        assert record is not None, f"{code} is not an ISO 3166 alpha-2 code pycountry knows"
        facts.append(
            Fact(
                question=f"What is the two-letter ISO 3166 country code of {country}?",
                paraphrase=f"Which ISO alpha-2 code is assigned to {country}?",
                answer=code,
                aliases=[code],
                reverse=(f"Which country has the ISO 3166 alpha-2 code {code}?", country, country_aliases(code)),
                two_hop=(
                    f"What is the three-letter ISO 3166 code of the country whose capital is {capital}?",
                    record.alpha_3,
                    [record.alpha_3],
                ),
                key=code,
            )
        )
    return facts


@lru_cache(maxsize=1)
def _elements() -> list[tuple[int, str, str]]:
    import periodictable

    return [(el.number, el.symbol, el.name) for el in periodictable.elements if 1 <= el.number <= 86]


def element_symbol_facts() -> list[Fact]:
    facts = []
    for number, symbol, name in _elements():
        facts.append(
            Fact(
                question=f"What is the chemical symbol of {name}?",
                paraphrase=f"Which one- or two-letter symbol stands for the element {name} in the periodic table?",
                answer=symbol,
                aliases=[symbol],
                reverse=(f"Which chemical element has the symbol {symbol}?", name, _element_aliases(name)),
                two_hop=(f"What is the chemical symbol of the element with atomic number {number}?", symbol, [symbol]),
                key=symbol,
            )
        )
    return facts


def _element_aliases(name: str) -> list[str]:
    british = {"aluminum": ["aluminium"], "cesium": ["caesium"], "sulfur": ["sulphur"]}
    return [name, *british.get(name, [])]


def element_number_facts() -> list[Fact]:
    elements = _elements()
    facts = []
    for number, symbol, name in elements:
        nxt = number + 1
        facts.append(
            Fact(
                question=f"What is the atomic number of {name}?",
                paraphrase=f"How many protons does an atom of {name} have in its nucleus?",
                answer=str(number),
                aliases=[str(number)],
                reverse=(f"Which chemical element has atomic number {number}?", name, _element_aliases(name)),
                two_hop=(
                    f"What is the atomic number of the element that comes right after {symbol} in the periodic table?",
                    str(nxt),
                    [str(nxt)],
                ),
                key=symbol,
            )
        )
    return facts


def month_facts() -> list[Fact]:
    ordinals = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth"]
    facts = []
    for i, month in enumerate(MONTHS):
        later = MONTHS[(i + 5) % 12]
        facts.append(
            Fact(
                question=f"What is the {ordinals[i]} month of the year?",
                paraphrase=f"In the Gregorian calendar, which month comes {ordinals[i]}?",
                answer=month,
                aliases=[month],
                reverse=(f"What number does {month} have among the months of the year (January is 1)?", str(i + 1), [str(i + 1), ordinals[i]]),
                two_hop=(f"Which month comes five months after the {ordinals[i]} month of the year?", later, [later]),
                key=month,
            )
        )
    return facts


def month_length_facts() -> list[Fact]:
    facts = []
    for year in (1900, 1996, 2000, 2023, 2024, 2025, 2100):
        for m in (2, 4, 7, 9, 11, 12):
            days = calendar.monthrange(year, m)[1]
            month = MONTHS[m - 1]
            nxt_days = calendar.monthrange(year + (m == 12), m % 12 + 1)[1]
            facts.append(
                Fact(
                    question=f"How many days are there in {month} {year}?",
                    paraphrase=f"In the year {year}, how many days long is {month}?",
                    answer=str(days),
                    aliases=[str(days)],
                    two_hop=(f"How many days are there in the month that follows {month} {year}?", str(nxt_days), [str(nxt_days)]),
                    key=f"{year}-{m:02d}",
                )
            )
    return facts


def unit_facts() -> list[Fact]:
    facts = []
    for chain in UNIT_CHAINS:
        for i, (small, big, factor) in enumerate(chain):
            two_hop = None
            if i + 1 < len(chain):
                _, bigger, factor2 = chain[i + 1]
                two_hop = (f"How many {small} are there in one {bigger}?", str(factor * factor2), [str(factor * factor2)])
            facts.append(
                Fact(
                    question=f"How many {small} are there in one {big}?",
                    paraphrase=f"One {big} is equal to how many {small}?",
                    answer=str(factor),
                    aliases=[str(factor)],
                    reverse=(f"{factor} {small} make up one of which unit?", big, _unit_aliases(big)),
                    two_hop=two_hop,
                    key=f"{small}-{big}",
                )
            )
    return facts


def _unit_aliases(unit: str) -> list[str]:
    american = {"metre": "meter", "kilometre": "kilometer", "centimetre": "centimeter", "litre": "liter", "tonne": "metric ton"}
    names = [unit, american[unit]] if unit in american else [unit]
    return names + [n + "s" for n in names]


def language_facts() -> list[Fact]:
    facts = []
    for lang, (ext, creators, _year) in LANGUAGES.items():
        # normalise_prompt drops punctuation, so "C#" and "C++" would read alike: spell C# out.
        shown = {"C#": "C# (C sharp)"}.get(lang, lang)
        names = [lang, "C sharp"] if lang == "C#" else [lang]
        facts.append(
            Fact(
                question=f"What file extension do {shown} source files usually have?",
                paraphrase=f"Source code written in {shown} is normally saved in files ending with which extension?",
                answer=ext,
                aliases=[ext, ext.lstrip(".")] if len(ext) > 3 else [ext],
                reverse=(f"Which programming language uses the source file extension {ext}?", lang, names),
                two_hop=(f"Who created the programming language whose source files end in {ext}?", creators[0], list(creators)),
                key=lang,
            )
        )
    return facts


def prime_facts() -> list[Fact]:
    from sympy import prime

    ordinal = lambda n: f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"  # noqa: E731
    facts = []
    for n in range(1, 41):
        p = prime(n)
        facts.append(
            Fact(
                question=f"What is the {ordinal(n)} prime number?",
                paraphrase=f"Counting 2 as the first prime, which prime number is number {n} in the sequence?",
                answer=str(p),
                aliases=[str(p)],
                reverse=(f"What is the position of {p} in the sequence of prime numbers, counting 2 as position 1?", str(n), [str(n), ordinal(n)]),
                two_hop=(f"What is the square of the {ordinal(n)} prime number?", str(p * p), [str(p * p)]),
                key=str(n),
            )
        )
    return facts


RELATIONS = {
    "capital": capital_facts,
    "country_code": country_code_facts,
    "element_symbol": element_symbol_facts,
    "element_number": element_number_facts,
    "month": month_facts,
    "month_length": month_length_facts,
    "unit": unit_facts,
    "language": language_facts,
    "prime": prime_facts,
}
