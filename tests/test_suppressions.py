"""Suppression comments: only real XML comments count, and finding them is linear."""

from __future__ import annotations

import time

import pytest

from sflint.metadata.reader import markup_spans, suppressions
from sflint.model import Location, Suppression

HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">\n'
GRANT = b"    <userPermissions>\n        <enabled>true</enabled>\n        <name>TwoFactorApi</name>\n    </userPermissions>\n"
TAIL = b"</PermissionSet>\n"


def test_comment_applies_to_the_next_element_past_blanks_and_comments() -> None:
    data = (
        HEAD
        + b"    <!-- sflint: ignore SFL002 (people who use Data Loader) -->\n\n    <!-- other -->\n"
        + GRANT
        + TAIL
    )
    assert suppressions(data, "p") == (
        Suppression(("SFL002",), Location("p", 6), reason="people who use Data Loader"),
    )


def test_ignore_file_and_several_rules() -> None:
    data = (
        HEAD.replace(
            b"\n<Perm", b"\n<!-- sflint: ignore-file SFL002, api-mfa-requires-ui-mfa -->\n<Perm"
        )
        + GRANT
        + TAIL
    )
    assert suppressions(data, "p") == (
        Suppression(("SFL002", "api-mfa-requires-ui-mfa"), Location("p", 3), whole_file=True),
    )


@pytest.mark.parametrize(
    "carrier",
    [
        b"<label><![CDATA[<!-- sflint: ignore-file -->]]></label>\n",
        b"<?note <!-- sflint: ignore-file --> ?>\n",
        b"<label>&lt;!-- sflint: ignore-file --&gt;</label>\n",
    ],
    ids=["cdata", "processing-instruction", "escaped-text"],
)
def test_directive_text_outside_a_comment_does_not_suppress(carrier: bytes) -> None:
    assert suppressions(HEAD + carrier + GRANT + TAIL, "p") == ()


def test_markup_spans_skip_each_construct_whole() -> None:
    data = b"<a><!-- <b> --><![CDATA[ <!-- x --> ]]><?pi <c> ?><d/></a>"
    comments, other = markup_spans(data)
    assert [data[s:e] for s, e in comments] == [b"<!-- <b> -->"]
    assert [data[s:e] for s, e in other] == [b"<![CDATA[ <!-- x --> ]]>", b"<?pi <c> ?>"]


@pytest.mark.parametrize(
    "body",
    [
        b"<!-- sflint: ignore SFL002 -->\n" * 40_000,  # every comment a directive
        b"<!-- sflint: -->" * 60_000,  # near-directives
        b"<label><![CDATA[" + b"<!-- sflint: ignore " * 60_000 + b"]]></label>",
    ],
    ids=["directives", "near-directives", "cdata"],
)
def test_large_hostile_files_are_linear(body: bytes) -> None:
    # Each of these took from 50 s to minutes with the earlier scanner; linear work on about
    # 1 MB is a fraction of a second. The bound only guards against a hang, it measures nothing.
    data = HEAD + body + GRANT + TAIL
    started = time.perf_counter()
    found = suppressions(data, "p")
    assert time.perf_counter() - started < 5
    if body.startswith(b"<!-- sflint: ignore SFL002"):
        assert len(found) == 40_000
        assert {s.location.line for s in found} == {40_003}
    else:
        assert found == ()
