"""Property-based: whatever bytes arrive as a bundle, the reader answers with a clean error."""

from __future__ import annotations

import io
import json
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commons import bundles
from commons.errors import CommonsError
from tests.test_bundles import bundle_of, minimal_manifest

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
