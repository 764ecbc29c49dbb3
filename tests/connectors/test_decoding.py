"""The body decoder's cap and the duplicate-key check, alone (the client's use is in tests/reliability/)."""

import gzip
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistants_export.connectors.core.errors import ResponseTooLarge, UndecodableResponse
from assistants_export.connectors.core.hashing import canonical_json_normalized, loads_normalized
from assistants_export.connectors.openai_assistants.decoding import BodyDecoder, may_repeat_a_key, repeated_keys

# --- the decoder ----------------------------------------------------------------------------------------


def decode(codings, data, cap, chunk=7):
    decoder = BodyDecoder(codings, cap)
    out = [decoder.feed(data[i:i + chunk]) for i in range(0, len(data), chunk)]
    return b"".join([*out, decoder.finish()])


@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_layers_are_undone_in_any_chunking_up_to_the_cap_exactly(chunk):
    body = bytes(range(256)) * 64  # 16 KiB
    twice = gzip.compress(zlib.compress(body))
    assert decode(["deflate", "gzip"], twice, cap=len(body), chunk=chunk) == body
    with pytest.raises(ResponseTooLarge, match="decoded from deflate, gzip exceeds the 16,383-byte cap"):
        decode(["deflate", "gzip"], twice, cap=len(body) - 1, chunk=chunk)


def test_no_layer_is_inflated_past_the_cap():
    """Each call to zlib is bounded: an inner layer bigger than the cap is refused before it is all out."""
    inner = gzip.compress(bytes(64 << 20), 9)  # 64 MiB of zeros as 64 KB
    decoder = BodyDecoder(["gzip", "gzip"], 1 << 16)
    with pytest.raises(ResponseTooLarge):
        decoder.feed(gzip.compress(inner))
    assert all(layer.produced <= (1 << 16) + 1 for layer in decoder._layers)


@pytest.mark.parametrize("codings, error_type", [(["br"], "unsupported_encoding"),
                                                 (["gzip"] * 4, "unsupported_encoding")])
def test_codings_the_client_did_not_ask_for_are_refused_before_any_byte(codings, error_type):
    with pytest.raises(UndecodableResponse) as refused:
        BodyDecoder(codings, 1024)
    assert refused.value.error_type == error_type


def test_identity_is_no_layer_and_corrupt_data_is_undecodable():
    assert decode(["identity", " Identity "], b'{"a": 1}', cap=8) == b'{"a": 1}'
    with pytest.raises(UndecodableResponse) as refused:
        decode(["gzip"], b"plain text, not gzip", cap=1024)
    assert refused.value.error_type == "undecodable_body"


# --- a key twice in one object --------------------------------------------------------------------------

documents = st.recursive(st.none() | st.booleans() | st.integers() | st.text(":\\u003a\"x é", max_size=6),
                         lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(":a\"é", max_size=4), inner, max_size=4), max_leaves=25)


def canonical_colons(text):
    return canonical_json_normalized(loads_normalized(text)).count(":")


@settings(max_examples=200, deadline=None)
@given(documents, st.booleans(), st.booleans())
def test_a_body_without_a_repeated_key_is_never_suspected(document, ascii_only, spaced):
    text = json.dumps(document, ensure_ascii=ascii_only, separators=(", ", ": ") if spaced else (",", ":"))
    # The one false alarm: a backslash written before "u003a" in a string looks like an escaped colon; the
    # exact check then finds nothing.
    assert not may_repeat_a_key(text, canonical_colons(text)) or "\\u003" in text
    assert repeated_keys(text) == []


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(":a", max_size=3), documents, min_size=1, max_size=4), st.booleans())
def test_a_repeated_key_is_always_suspected_and_found(document, escape_colons):
    key = next(iter(document))
    text = json.dumps(document)
    text = text[:-1] + ", " + json.dumps(key) + ": 0}"  # the first key again, at the end
    if escape_colons:  # \u003a escapes must not hide the lost member
        text = text.replace(":", "\\u003a").replace('"\\u003a ', '": ').replace("\\u003a ", ": ")
    assert may_repeat_a_key(text, canonical_colons(text)), text
    assert repeated_keys(text)[0] == (key,)


def test_repeated_keys_names_every_object_in_document_order():
    text = '{"a": [{"k": 1, "k": 2}], "m": {"t": 1, "\\u0074": 2, "t": 3}, "id": 1, "id": 2}'
    assert repeated_keys(text) == [("id",), ("a", 0, "k"), ("m", "t")]
