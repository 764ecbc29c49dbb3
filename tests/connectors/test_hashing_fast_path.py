"""The flatten step's fast path gives exactly the canonical JSON and content hash of the slow one."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from assistants_export.connectors.core.hashing import (
    canonical_json,
    canonical_json_normalized,
    content_hash,
    content_hash_normalized,
    loads_normalized,
)

numbers = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | numbers | st.text()
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=25)

# Number spellings a server may send that parse to an integral float, or nearly.
TRICKY = ["1.0", "-0.0", "0.0", "1e5", "1E+2", "2.50e1", "1.5e300", "12345678901234567890.5", "1.0000000000000000001",
          "0.1", "1e-7", "123456789012345678901234567890", "-1", "3.14159", "1e308", "5e-324"]


@settings(max_examples=150, deadline=None)
@given(documents, st.booleans())
def test_the_fast_path_equals_canonical_json_of_the_plain_parse(document, ascii_only):
    text = json.dumps(document, ensure_ascii=ascii_only)
    assert canonical_json_normalized(loads_normalized(text)) == canonical_json(json.loads(text))
    assert content_hash_normalized(loads_normalized(text)) == content_hash(json.loads(text))


def test_tricky_number_spellings():
    for token in TRICKY:
        text = f'{{"b": [{token}, {{"x": {token}}}], "a": {token}}}'
        assert canonical_json_normalized(loads_normalized(text)) == canonical_json(json.loads(text)), token
