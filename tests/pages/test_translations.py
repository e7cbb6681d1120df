"""The catalogs: every string of the pages has its Chinese, and what runs (the .mo that
`make translations` compiles) is what the .po says."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import marketplace.pages

PAGES = Path(marketplace.pages.__file__).parent
CATALOGS = PAGES / "translations"
CHINESE = CATALOGS / "zh_Hans_CN" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def page_strings() -> set[str]:
    """Every msgid in the pages' code and templates, as `make messages` extracts them."""
    found = extract_from_dir(PAGES, METHODS, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for *_, message, _, _ in found}


def test_every_page_string_is_translated_into_chinese():
    with (CHINESE / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else (m.string,))
    }
    missing = page_strings() - translated
    assert not missing, f"run `make messages` and translate: {sorted(missing)}"


def plain(value) -> tuple:
    """A message's id or text as a tuple, whether singular or plural, read from .po or .mo."""
    return (value,) if isinstance(value, str) else tuple(value)


def test_the_compiled_catalogs_are_the_po_files():
    for po_path in CATALOGS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.exists(), f"{mo_path} missing: run `make translations`"
        with po_path.open("rb") as po, mo_path.open("rb") as mo:
            source, compiled = read_po(po), read_mo(mo)
        # An untranslated entry reads as its English id, compiled or not.
        want = {plain(m.id): plain(m.string) for m in source if m.id and any(plain(m.string))}
        have = {
            plain(m.id): plain(m.string)
            for m in compiled
            if m.id and plain(m.string) != plain(m.id)
        }
        assert have == want, f"{mo_path} is stale: run `make translations`"
