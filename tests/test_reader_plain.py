"""The tree-free reader (``sflint.metadata.plain``) gives exactly what the general reader
(lxml's iterparse, the reader sflint had before it) gives, on every real file and on every
hostile variant here; whatever it cannot read with certainty goes to the general reader.

``general`` below is that reader forced, so each comparison is old against new."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from sflint import xmlsafe
from sflint.kinds import Role, kind_of
from sflint.metadata import plain, reader
from sflint.metadata.reader import ParsedFile, parse_bytes, suppressions
from sflint.model import ComponentType, Grant, Location
from sflint.project import classify
from sflint.xmlsafe import well_formed
from tests.conftest import TESTDATA

PS = ComponentType.PERMISSION_SET
NS_URI = b"http://soap.sforce.com/2006/04/metadata"
NS = b'<PermissionSet xmlns="' + NS_URI + b'">'
GRANT = b"<userPermissions><enabled>true</enabled><name>TwoFactorApi</name></userPermissions>"
OBJECT = (
    b"<objectPermissions>\n<allowCreate>false</allowCreate>\n<allowDelete>false</allowDelete>\n"
    b"<allowEdit>false</allowEdit>\n<allowRead>true</allowRead>\n"
    b"<modifyAllRecords>true</modifyAllRecords>\n<object>Account</object>\n"
    b"<viewAllRecords>true</viewAllRecords>\n</objectPermissions>"
)


def general(data: bytes, ctype: ComponentType = PS, role: Role = Role.MAIN) -> ParsedFile:
    found = suppressions(data, "f.xml")
    parsed = reader._parse(data, "f.xml", kind_of(ctype).roots(role), reader._marks(found))
    return replace(parsed, suppressions=found) if found else parsed


def is_plain(data: bytes, ctype: ComponentType = PS, role: Role = Role.MAIN) -> bool:
    roots = kind_of(ctype).roots(role)
    return well_formed(data) and plain.scan(data, roots, reader._WITH_FIELDS) is not None


def metadata_files(base: Path) -> list[Path]:
    return [p for p in sorted(base.rglob("*")) if p.is_file() and classify(p) is not None]


def _same_on_every_file(base: Path) -> list[str]:
    """Assert old == new on every file under ``base``; the files the general reader read."""
    general_files = []
    for path in metadata_files(base):
        ctype, _, role = classify(path)  # type: ignore[misc]
        data = path.read_bytes()
        assert parse_bytes(data, "f.xml", ctype, role) == general(data, ctype, role), path
        if not is_plain(data, ctype, role):
            general_files.append(path.relative_to(base).as_posix())
    return general_files


def test_every_testdata_file_reads_the_same_and_most_without_a_tree() -> None:
    assert _same_on_every_file(TESTDATA) == [
        "cases/invalid/force-app/main/default/permissionsets/Broken.permissionset-meta.xml",
        "cases/invalid/force-app/main/default/permissionsets/Entity.permissionset-meta.xml",
        "cases/invalid/force-app/main/default/permissionsets/Wrong_Root.permissionset-meta.xml",
        "cases/invalid/force-app/main/default/profiles/Latin1.profile-meta.xml",
        # CDATA and a character reference inside names, a grant written xmlns="".
        "cases/tricky-xml/force-app/main/default/permissionsets/Sync.permissionset-meta.xml",
    ]


def test_every_corpus_file_reads_the_same_and_without_a_tree(corpus: Path) -> None:
    assert _same_on_every_file(corpus) == []


def doc(body: bytes) -> bytes:
    return NS + b"\n" + body + b"\n</PermissionSet>\n"


# name: (document, whether the plain path reads it)
CASES: dict[str, tuple[bytes, bool]] = {
    # libxml2 allows 256 nested elements (the root included) and refuses the 257th, even an
    # empty one; it checks that only while building a tree, so the plain path counts.
    "255-deep-then-empty": (doc(b"<a>" * 254 + b"<b/>" + b"</a>" * 254 + GRANT), True),
    "256-deep-then-empty": (doc(b"<a>" * 255 + b"<b/>" + b"</a>" * 255 + GRANT), False),
    "256-deep": (doc(b"<a>" * 255 + b"</a>" * 255 + GRANT), True),
    "257-deep": (doc(b"<a>" * 256 + b"</a>" * 256 + GRANT), False),
    "many-shallow": (doc((b"<a>" * 200 + b"</a>" * 200 + b"\n") * 50 + GRANT), True),
    "dense-empties": (doc(b"<x>" + b"<a/>" * 5000 + b"</x>" + GRANT), True),
    # A grant where the reader reads none: not a child of the root.
    "nested-grant": (doc(b"<x>" + GRANT + b"</x>" + GRANT), False),
    "nested-grant-behind-slash-text": (doc(b"<x><y>a/>b</y>" + GRANT + b"</x>" + GRANT), False),
    # Between two grants: the depth there is counted from the depth pass's block.
    "256-deep-between-grants": (doc(GRANT + b"<a>" * 255 + b"</a>" * 255 + GRANT), True),
    "257-deep-between-grants": (doc(GRANT + b"<a>" * 256 + b"</a>" * 256 + GRANT), False),
    "nested-grant-after-a-grant": (doc(GRANT + b"<x>" + GRANT + b"</x>" + GRANT), False),
    "nested-grant-blocks-after-a-grant": (
        doc(GRANT + b"<x>" + b"<f>x</f>\n" * 2000 + GRANT + b"</x>" + GRANT),
        False,
    ),
    # An empty tag and a ">" in text blocks apart: each block's count is exact.
    "empty-tag-and-gt-in-text-blocks-apart": (
        doc(GRANT + b"<e/>" + b"<f>x</f>\n" * 2000 + b"<d>a>b</d>" + GRANT),
        True,
    ),
    "grant-in-grant": (
        doc(b"<userPermissions><userPermissions/><name>X</name></userPermissions>"),
        False,
    ),
    # "/>" and ">" in text: legal, and never miscounted as tags. With no empty tag in the
    # file, the depth pass never looks for "/>", so one in text is read without a tree.
    "slash-gt-in-text": (doc(b"<description>a/>b</description>" + GRANT), True),
    "slash-gt-in-text-and-an-empty-tag": (
        doc(b"<description>a/>b</description><e/>" + GRANT),
        False,
    ),
    # Counted as if there were no empty tag, each one before a point adds one to the depth
    # there: the pass then counts again with them, and reads what it read before.
    "empty-tag-before-a-grant": (doc(b"<e/>" + GRANT), True),
    "empty-tag-then-a-nested-grant": (doc(b"<e/><x>" + GRANT + b"</x>" + GRANT), False),
    "empty-tag-in-a-grant-then-a-grant": (
        doc(b"<x><e/></x>" + GRANT + b"<x>" + GRANT + b"</x>"),
        False,
    ),
    "empties-then-256-deep": (doc(b"<e/>" * 300 + b"<a>" * 255 + b"</a>" * 255 + GRANT), True),
    "empties-then-257-deep": (doc(b"<e/>" * 300 + b"<a>" * 256 + b"</a>" * 256 + GRANT), False),
    "empties-inside-256-deep": (
        doc(b"<a>" * 200 + b"<e/>" * 300 + b"<a>" * 55 + b"</a>" * 255 + GRANT),
        True,
    ),
    # Start tags found by name: never a longer name, always with what may end a tag.
    "longer-names-than-the-read-ones": (
        doc(
            b"<labels>A</labels><userPermissionsX>B</userPermissionsX><licenseKey>C</licenseKey>"
            b"<label\n>L</label>" + GRANT.replace(b"<userPermissions>", b"<userPermissions\t>")
        ),
        True,
    ),
    "gt-in-text": (doc(b"<description>a>b</description>" + GRANT), True),
    "gt-in-text-and-an-empty-tag": (doc(b"<description>a>b</description><e/>" + GRANT), False),
    "empty-grant": (doc(b"<userPermissions/>" + GRANT), True),
    "grant-with-a-deeper-child": (
        doc(b"<userPermissions><enabled>true</enabled><name>X</name><x><y/></x></userPermissions>"),
        False,
    ),
    "name-with-a-child": (
        doc(b"<userPermissions><enabled>true</enabled><name>X<y/></name></userPermissions>"),
        False,
    ),
    "comment-in-grant": (
        doc(b"<userPermissions><!--c--><enabled>true</enabled><name>X</name></userPermissions>"),
        False,
    ),
    "pi-in-name": (
        doc(b"<userPermissions><enabled>true</enabled><name>X<?p?>Y</name></userPermissions>"),
        False,
    ),
    "many-comments": (doc(b"<!--c-->" * 5000 + GRANT), False),
    "crlf-in-name": (
        doc(b"<userPermissions><enabled>true</enabled><name>X\r\nY</name></userPermissions>"),
        True,
    ),
    "references-in-name": (
        doc(
            b"<userPermissions><enabled>true</enabled><name>&#13;X&#x9;&amp;&lt;Y&#65;</name></userPermissions>"
        ),
        True,
    ),
    "ambiguous-grants": (
        doc(
            b"<userPermissions><enabled>True</enabled><name>A</name><name>B</name></userPermissions>"
            b"<userPermissions><name>C</name></userPermissions><userPermissions><enabled>1</enabled>"
            b"<enabled>yes</enabled><name>A</name><name>A</name><name>D</name><name>E</name>"
            b"</userPermissions><userPermissions><enabled>false</enabled></userPermissions>"
        ),
        True,
    ),
    # The grant as Salesforce writes it, but without a name: a problem, as on both paths.
    "grant-with-an-empty-name": (
        doc(b"<userPermissions><enabled>true</enabled><name></name></userPermissions>" + GRANT),
        True,
    ),
    "grant-with-a-blank-name-disabled": (
        doc(b"<userPermissions><enabled>false</enabled><name> \n\t</name></userPermissions>"),
        True,
    ),
    "grant-repeated-around-one-without-a-name": (
        doc(GRANT + b"<userPermissions><enabled>true</enabled><name/></userPermissions>" + GRANT),
        True,
    ),
    "label-twice": (doc(b"<label>A</label><label>B</label><label/>"), True),
    "empty-root": (NS[:-1] + b"/>", True),
    "suppressions-before-after-and-in-the-prolog": (
        b"<!-- sflint: ignore-file SFL002 -->\n"
        + doc(b"<!-- sflint: ignore SFL001 (why) -->\n" + GRANT)
        + b"<!-- sflint: ignore-file -->",
        True,
    ),
    "root-attribute": (doc(GRANT).replace(b"<PermissionSet ", b"<PermissionSet a='1' "), True),
    "root-without-namespace": (b"<PermissionSet xmlns=''>" + GRANT + b"</PermissionSet>", True),
    "root-in-another-namespace": (
        b"<PermissionSet xmlns='urn:x'>" + GRANT + b"</PermissionSet>",
        False,
    ),
    "root-namespace-not-a-uri": (doc(GRANT).replace(b"2006/04", b"2006 04"), False),
    "attribute-below-the-root": (doc(GRANT.replace(b"<name>", b"<name a='1'>")), False),
    "grant-outside-the-namespace": (
        doc(GRANT.replace(b"<userPermissions>", b"<userPermissions xmlns=''>")),
        False,
    ),
    "prefix-declared-on-the-root": (
        doc(GRANT).replace(b"<PermissionSet ", b"<PermissionSet xmlns:p='urn:p' "),
        False,
    ),
    "undeclared-prefix": (doc(b"<p:x/>" + GRANT), False),
    "colon-in-a-pi-target": (b"<?a:b?>" + doc(GRANT), False),
    "cdata-name": (doc(GRANT.replace(b"TwoFactorApi", b"<![CDATA[TwoFactorApi]]>")), False),
    "cdata-elsewhere": (
        doc(b"<description><![CDATA[<userPermissions>]]></description>" + GRANT),
        True,
    ),
    "comment-holding-a-grant": (doc(b"<!-- " + GRANT + b" -->" + GRANT), True),
    "doctype": (b"<!DOCTYPE PermissionSet>\n" + doc(GRANT), False),
    "latin-1": (
        b"<?xml version='1.0' encoding='ISO-8859-1'?>" + doc(b"<label>\xe9</label>"),
        False,
    ),
    "undefined-entity": (doc(b"<label>&x;</label>"), False),
    # Object permissions: the shape Salesforce writes in one match, any other leaf shape
    # through the same extractor, every ambiguity a problem on both paths.
    "object-as-salesforce-writes-it": (doc(OBJECT), True),
    "object-with-view-all-fields": (
        doc(
            OBJECT.replace(
                b"<viewAllRecords>", b"<viewAllFields>true</viewAllFields><viewAllRecords>"
            )
        ),
        True,
    ),
    "object-fields-in-another-order": (
        doc(
            b"<objectPermissions><object>Case</object><modifyAllRecords>true</modifyAllRecords>"
            b"<allowRead>true</allowRead></objectPermissions>"
        ),
        True,
    ),
    "object-flag-spelt-True-and-yes": (
        doc(
            OBJECT.replace(b"<allowRead>true", b"<allowRead>True").replace(
                b"<allowEdit>false", b"<allowEdit>yes"
            )
        ),
        True,
    ),
    "object-flag-with-blanks": (
        doc(OBJECT.replace(b">true</allowRead", b"> true\n</allowRead")),
        True,
    ),
    "object-two-objects": (
        doc(OBJECT.replace(b"</object>", b"</object><object>Lead</object>")),
        True,
    ),
    "object-flag-twice": (
        doc(
            OBJECT.replace(
                b"<allowRead>true</allowRead>",
                b"<allowRead>false</allowRead><allowRead>true</allowRead>",
            )
        ),
        True,
    ),
    "object-without-object": (
        doc(b"<objectPermissions><allowRead>true</allowRead></objectPermissions>"),
        True,
    ),
    "object-empty": (doc(b"<objectPermissions/>" + OBJECT), True),
    "object-in-a-comment": (doc(b"<!-- " + OBJECT + b" -->" + GRANT), True),
    "object-cdata-name": (doc(OBJECT.replace(b"Account", b"<![CDATA[Account]]>")), False),
    "object-outside-the-namespace": (
        doc(OBJECT.replace(b"<objectPermissions>", b"<objectPermissions xmlns=''>")),
        False,
    ),
    "object-reference-in-name": (doc(OBJECT.replace(b"Account", b"Acc&#111;unt")), True),
    "unexpected-root": (b"<Profile/>", False),
    "not-well-formed": (doc(b"<label>x</lab>"), False),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_variants_read_the_same(name: str) -> None:
    data, plain_path = CASES[name]
    assert parse_bytes(data, "f.xml", PS) == general(data)
    assert is_plain(data) is plain_path


def test_lines_are_exact_past_line_65535_on_both_paths() -> None:
    """libxml2's line numbers stop at 65535; the start of every element is counted."""
    filler = b"<a/>\n" * 70_000
    for data, plain_path in (
        (doc(filler + GRANT + b"\n<label>L</label>"), True),
        (doc(filler + GRANT + b"\n<label><![CDATA[L]]></label>"), False),
    ):
        parsed = parse_bytes(data, "f.xml", PS)
        assert is_plain(data) is plain_path
        assert parsed.grants == (Grant("TwoFactorApi", True, Location("f.xml", 70_002)),)
        assert parsed.label == "L"
        assert parsed == general(data)


TOKENS = (
    b"<userPermissions>",
    b"</userPermissions>",
    b"<userPermissions/>",
    b"<name>X</name>",
    b"<enabled>True</enabled>",
    b"<!-- c -->",
    b"<!-- sflint: ignore SFL001 -->",
    b"<![CDATA[x]]>",
    b"<?pi x?>",
    b"/>",
    b">",
    b"&amp;",
    b"&#65;",
    b"&#13;",
    b"\r\n",
    b"\r",
    b" a='1'",
    b' xmlns=""',
    b"<p:x/>",
    b"p:",
    b"<label>L</label>",
    b"<w>",
    b"</w>",
    b"<x/>",
    b"\n",
    b"<name/>",
    b"=",
    b":",
    b"<permissionSets>A</permissionSets>",
    b"<",
    b"\xc3\xa9",
    b"]]>",
    b"?>",
    b"<!DOCTYPE x>",
    b"<?a:b x?>",
    b" xml:lang='en'",
    b"\t",
    b"<![CDATA[<userPermissions>]]>",
    b"<!-- <userPermissions> -->",
    b"\xff",
    b"&#x1F600;",
)


def test_random_edits_of_real_files_read_the_same() -> None:
    """Each of 600 edits (1 to 3 tokens inserted, mostly before a tag) of the testdata files
    reads the same on both paths. A fixed seed: the same edits on every run."""
    rnd = random.Random(12)
    files = [p for p in metadata_files(TESTDATA) if p.stat().st_size < 30_000]
    for _ in range(600):
        path = rnd.choice(files)
        ctype, _, role = classify(path)  # type: ignore[misc]
        data = bytearray(path.read_bytes())
        for _ in range(rnd.randint(1, 3)):
            pos = rnd.randint(0, len(data))
            if rnd.random() < 0.7 and data.find(b"<", pos) >= 0:
                pos = data.find(b"<", pos)
            data[pos:pos] = rnd.choice(TOKENS)
        edited = bytes(data)
        assert parse_bytes(edited, "f.xml", ctype, role) == general(edited, ctype, role), edited


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
        b"<?xml version='1.0'?>\n<!-- c -->\n<!DOCTYPE a SYSTEM 'file:///etc/passwd'><a/>",
        "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>".encode("utf-16"),
        "<?xml version='1.0' encoding='UTF-16'?><a/>".encode("utf-16-be"),
        b"<?xml version='1.0' encoding='UTF-7'?><a/>",
        b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>",
        b"<?xml version='1.0' encoding=\"UTF-8\" junk?><a/>",
        b"<a>\x00</a>",
        b"<a/>junk",
        b"",
    ],
)
def test_the_tree_free_check_never_sees_what_could_declare_an_entity(data: bytes) -> None:
    """A target parser replaces entities (lxml turns it on), so it is given only UTF-8
    without a DOCTYPE; anything else is "not known to be well-formed"."""
    assert well_formed(data) is False


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"<?xml version='1.7'?>" + doc(GRANT), "Unsupported version '1.7'"),
        (doc(GRANT).replace(b"<PermissionSet ", b"<PermissionSet xmlns:p='' "), "Empty XML"),
        (doc(GRANT).replace(NS_URI, b"urn"), "URI urn is not absolute"),
    ],
)
def test_a_warning_or_a_namespace_error_is_not_well_formed_enough(
    data: bytes, problem: str
) -> None:
    """libxml2 reports these without stopping; the check reads the feed parser's own log,
    so a document with any of them is not "known to be well-formed" and the general reader
    reads it (and reads it as ever)."""
    assert well_formed(data) is False
    assert parse_bytes(data, "f.xml", PS) == general(data)
    target = etree.XMLParser(target=xmlsafe._Nothing(), **xmlsafe._options(False))  # type: ignore[arg-type]
    target.feed(data)
    target.close()
    assert [problem in e.message for e in target.feed_error_log] == [True]


def test_the_tree_free_check_accepts_what_salesforce_writes() -> None:
    assert well_formed(b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n' + doc(GRANT))
    assert well_formed(b"<?xml version='1.0' encoding='utf8' standalone='yes' ?><!--c--><a/>")


def test_a_file_over_10_mb_is_read_without_a_tree_and_a_text_over_the_limit_is_not() -> None:
    """Fed at once, libxml2's check stopped at its 10 MB buffer limit and every larger file
    took the tree parser (a 64 MB set: 60 s instead of 15 s); a text node over libxml2's
    10,000,000-byte limit is still refused only by the tree parser, so it still goes there."""
    grant = b"<userPermissions><enabled>true</enabled><name>N%d</name></userPermissions>\n"
    big = doc(b"".join(grant % i for i in range(150_000)))
    assert len(big) > 11_000_000
    assert well_formed(big) and is_plain(big)
    assert parse_bytes(big, "f.xml", PS) == general(big)
    for text in (
        b"<description>" + b"x" * 10_000_001 + b"</description>",
        # Comments inside a text node do not end it: the tree parser merges what is around.
        b"<description>" + b"<!-- <a -->".join([b"x" * 1_000_000] * 11) + b"</description>",
    ):
        long = doc(GRANT + text)
        assert not is_plain(long)
        assert parse_bytes(long, "f.xml", PS) == general(long)
        assert [p.message for p in general(long).problems] == [
            "not well-formed XML: nested too deeply or text too large for a metadata file"
        ]


def _start_tags_by_regex(data: bytes, names: tuple[str, ...]) -> list[tuple[int, str]]:
    """The reference for ``plain._candidates``: one regular expression for all the names."""
    alternatives = b"|".join(n.encode("ascii") for n in names)
    pattern = re.compile(rb"<(" + alternatives + rb")[ \t\r\n/>]")
    return [(m.start(), m.group(1).decode("ascii")) for m in pattern.finditer(data)]


def test_start_tags_found_name_by_name_are_those_one_pattern_finds() -> None:
    """``_candidates`` finds each name's start tags with ``find``; on every testdata file,
    and 600 random edits of them, it finds what one regular expression finds (no markup
    here: that is skipped the same way by both)."""
    rnd = random.Random(13)
    files = [p for p in metadata_files(TESTDATA) if p.stat().st_size < 30_000]
    names = ("userPermissions", "objectPermissions", "label", "license", "userLicense", "custom")
    no_markup = plain._Markup([], False)
    samples = [p.read_bytes() for p in files]
    for _ in range(600):
        edited = bytearray(rnd.choice(samples))
        for _ in range(rnd.randint(1, 3)):
            pos = rnd.randint(0, len(edited))
            edited[pos:pos] = rnd.choice((*TOKENS, b"<label", b"<labels>", b"<custom/", b"<use"))
        samples.append(bytes(edited))
    for data in samples:
        for some in (names, names[:1], names[2:4]):
            for start, end in ((0, len(data)), (1, len(data) - 1)):
                want = [(at, n) for at, n in _start_tags_by_regex(data[:end], some) if at >= start]
                assert plain._candidates(data, some, start, end, no_markup) == want, data
