"""Property-based: whatever bytes arrive as a bundle, the reader answers with a clean error,
and a bundle whose checked contents were changed on the way is refused."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from commons import bundles
from commons.errors import CommonsError
from tests.test_bundles import BODY, bundle_of, minimal_manifest, zip_bytes

ANY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _refused_cleanly(data: bytes) -> None:
    try:
        with bundles.open_bundle(io.BytesIO(data)):
            pass
    except CommonsError as error:
        assert str(error.message)
        assert error.status in (400, 413)


@ANY_SETTINGS
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_crash_the_reader(app, data: bytes) -> None:
    _refused_cleanly(data)


@ANY_SETTINGS
@given(st.integers(min_value=0, max_value=2000), st.binary(min_size=1, max_size=8))
def test_a_corrupted_bundle_never_crashes_the_reader(app, position: int, noise: bytes) -> None:
    data = bytearray(bundle_of(minimal_manifest()))
    position %= len(data)
    data[position : position + len(noise)] = noise
    _refused_cleanly(bytes(data))


def _refused(data: bytes) -> None:
    with pytest.raises(CommonsError) as refused, bundles.open_bundle(io.BytesIO(data)):
        pass
    assert refused.value.status == 400 and str(refused.value.message)


def _changed(data: bytes, position: int, noise: bytes) -> bytes:
    """``data`` with ``noise`` written at ``position`` (modulo its length)."""
    changed = bytearray(data)
    position %= len(changed)
    changed[position : position + len(noise)] = noise
    assume(changed != data)
    return bytes(changed)


@ANY_SETTINGS
@given(st.integers(min_value=0), st.binary(min_size=1, max_size=8))
def test_a_changed_page_text_is_refused(app, position: int, noise: bytes) -> None:
    # The manifest's sha256 and size vouch for the text: any change is caught.
    text = _changed(BODY.encode(), position, noise)
    _refused(bundle_of(minimal_manifest(), {"pages/outil.md": text}))


@ANY_SETTINGS
@given(st.integers(min_value=0), st.binary(min_size=1, max_size=8))
def test_a_bundle_changed_inside_a_page_text_is_refused(app, position: int, noise: bytes) -> None:
    files = {"pages/outil.md": BODY, "manifest.json": json.dumps(minimal_manifest())}
    data = zip_bytes(files, compression=zipfile.ZIP_STORED)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = archive.getinfo("pages/outil.md")
    # The stored text starts after the member's local header (30 bytes, name, extra).
    start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    assert data[start : start + member.file_size] == BODY.encode()
    text = _changed(BODY.encode(), position, noise)[: len(BODY.encode())]
    assume(text != BODY.encode())
    _refused(data[:start] + text + data[start + len(text) :])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@ANY_SETTINGS
@given(st.sampled_from(list(minimal_manifest()["pages"][0])), json_values)
def test_any_manifest_value_is_checked(app, field: str, value) -> None:  # noqa: ANN001
    manifest = minimal_manifest()
    manifest["pages"][0][field] = value
    _refused_cleanly(bundle_of(json.dumps(manifest)))


@ANY_SETTINGS
@given(
    st.dictionaries(
        st.text(
            st.characters(min_codepoint=32, exclude_categories=("Cs",)), min_size=1, max_size=30
        ),
        st.binary(max_size=64),
        max_size=5,
    )
)
def test_any_members_are_checked(app, members: dict[str, bytes]) -> None:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        archive.writestr("manifest.json", json.dumps(minimal_manifest()))
    _refused_cleanly(stream.getvalue())
