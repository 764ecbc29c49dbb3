"""``redact``: a secret is replaced in every form a library or a server may give it back in, and nothing else is."""

import base64
import json
from urllib.parse import quote

import pytest

from assistants_export.connectors.core.errors import REDACTED, redact

SECRET = "sk-proj-Ab3/Cd4+Ef5_Gh6-Ij7"


def every_char_escaped(text):
    return "".join(f"\\u{ord(c):04x}" for c in text)


DISGUISES = {
    "plain": SECRET,
    "json \\u escapes": every_char_escaped(SECRET),
    "json \\u escapes, upper-case hex, every other character": "".join(
        f"\\u{ord(c):04X}" if i % 2 else c for i, c in enumerate(SECRET)),
    "json inside json": every_char_escaped(SECRET).replace("\\", "\\\\"),
    "json \\/": SECRET.replace("/", "\\/"),
    "python bytes repr": repr(SECRET.encode())[2:-1],
    "percent-encoded": quote(SECRET, safe=""),
    "percent-encoded every byte, lower-case": "".join(f"%{b:02x}" for b in SECRET.encode()),
    "percent-encoded twice": quote(quote(SECRET, safe=""), safe=""),
    "html decimal entities": "".join(f"&#{ord(c)};" for c in SECRET),
    "html hex entities": "".join(f"&#x{ord(c):X};" for c in SECRET),
    **{f"base64 after {lead} bytes": base64.b64encode(b"x" * lead + SECRET.encode()).decode() for lead in range(3)},
    **{f"url-safe base64 after {lead} bytes": base64.urlsafe_b64encode(b"x" * lead + SECRET.encode()).decode()
       for lead in range(3)},
    "base64 inside json, its slashes escaped": base64.b64encode(b"Bearer " + SECRET.encode()).decode().replace(
        "/", "\\/"),
}


@pytest.mark.parametrize("name", DISGUISES)
def test_every_disguise_is_redacted_and_json_stays_json(name):
    body = json.dumps({"message": "before ", "echo": "PLACEHOLDER", "after": 1}).replace("PLACEHOLDER",
                                                                                        DISGUISES[name])
    cleaned = redact(body, [SECRET])
    assert REDACTED in cleaned, cleaned
    value = json.loads(cleaned)["echo"]  # still JSON
    # All that is left is what is not the secret: a base64 prefix and the characters it shares with its neighbours.
    assert len(value.replace(REDACTED, "")) <= 16, value


def test_ordinary_text_is_left_alone():
    text = 'ordinary \\n \\"quoted\\" %20 &#233; &amp; \\u00e9 c2stcHJvag== sk-proj-Ab3 ' + SECRET[:-1]
    assert redact(text, [SECRET]) == text
    assert redact(SECRET, ["abc"]) == SECRET  # too short to redact safely
    assert redact(SECRET, []) == SECRET


def test_several_secrets_and_overlapping_forms():
    other = "key-2-Zz9Yy8Xx7"
    text = f"{SECRET} and {every_char_escaped(other)} and {SECRET}{other}"
    assert redact(text, [SECRET, other]) == f"{REDACTED} and {REDACTED} and {REDACTED}{REDACTED}"
