"""IDs in: cleaning, rejecting, de-duplicating, reading files."""

import json
import os
from pathlib import Path

import pytest

from assistants_export.connectors.core.errors import InputError
from assistants_export.connectors.openai_assistants.ids import IdStats, RejectedId, clean_ids, read_ids_file


def split(raw):
    stats = IdStats()
    decisions = list(clean_ids(raw, stats))
    return ([d for d in decisions if isinstance(d, str)], [d for d in decisions if isinstance(d, RejectedId)], stats)


def test_strips_and_dedupes_in_order():
    good, bad, stats = split([" asst_b ", "asst_a", "asst_b", "asst_a\n", "asst_c"])
    assert good == ["asst_b", "asst_a", "asst_c"]
    assert bad == [] and stats.duplicates == 2 and stats.accepted == 3


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("asst a", "whitespace"),
    ("../files", "path separator"),
    ("asst..x", "'..'"),
    ("a\\b", "path separator"),
    ("asst_\x00x", "control"),
    ("asst_\x1bx", "control"),
    ("a" * 129, "longer than 128"),
])
def test_malformed_ids_are_rejected_with_a_reason(raw, reason):
    good, bad, stats = split([raw, "asst_ok"])
    assert good == ["asst_ok"]
    assert len(bad) == 1 and reason in bad[0].reason
    assert stats.rejected == 1


def test_rejected_ids_are_shown_printable_and_bounded():
    _, bad, _ = split(["asst_\x00" + "x" * 10_000])
    assert "\\x00" in bad[0].display and len(bad[0].display) < 260


def test_unicode_and_percent_ids_are_sent_as_they_are():
    good, _, _ = split(["asst_ü", "%2F", "a" * 128])
    assert good == ["asst_ü", "%2F", "a" * 128]


def test_non_strings_are_rejected():
    _, bad, _ = split([42, None])
    assert [b.reason for b in bad] == ["not a string (int)", "not a string (NoneType)"]


def test_text_file_skips_blank_lines(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("asst_1\n\n  asst_2  \r\nasst_1\n", encoding="utf-8")
    assert list(read_ids_file(path)) == ["asst_1", "  asst_2  ", "asst_1"]


def test_csv_file_uses_the_assistant_id_column(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("team, assistant_id\nsupport,asst_1\nsales,asst_2\n", encoding="utf-8")
    assert list(read_ids_file(path)) == ["asst_1", "asst_2"]


def test_csv_without_the_column_is_refused_before_anything_is_read(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("id,name\nasst_1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'assistant_id' column"):
        read_ids_file(path)


def test_json_array_file(tmp_path):
    path = tmp_path / "ids.json"
    path.write_text(json.dumps(["asst_1", "asst_2"]), encoding="utf-8")
    assert list(read_ids_file(path)) == ["asst_1", "asst_2"]


def test_json_is_sniffed_without_the_extension(tmp_path):
    path = tmp_path / "ids"
    path.write_text('\n ["asst_1"]', encoding="utf-8")
    assert list(read_ids_file(path)) == ["asst_1"]


@pytest.mark.parametrize(("content", "message"), [
    ('{"ids": []}', "JSON array"),
    ("[1, 2", "not valid JSON"),
])
def test_bad_json_files(tmp_path, content, message):
    path = tmp_path / "ids.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_ids_file(path)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_ids_file(tmp_path / "nope.txt")
    path = tmp_path / "ids.bin"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="not UTF-8"):
        list(read_ids_file(path))


def test_an_unreadable_ids_file_is_an_input_error_not_a_warehouse_error(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "ids.txt"
    path.write_text("asst_a\n", encoding="utf-8")

    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(InputError, match="cannot be read: Permission denied"):
        list(read_ids_file(path))


# --- every line read with a bound ---------------------------------------------------------------------------------

@pytest.fixture
def short_lines(monkeypatch):
    from assistants_export.connectors.openai_assistants import settings

    monkeypatch.setattr(settings, "MAX_IDS_FILE_LINE", 100)
    return 100


@pytest.mark.parametrize(("name", "content", "message"), [
    ("ids.txt", "asst_1\nasst_2\n" + "x" * 101 + "\nasst_3\n", "line 3 is longer than 100 characters"),
    ("ids.txt", "asst_1\r\n" + "x" * 500, "line 2 is longer than 100 characters"),
    ("ids", "y" * 5000, "line 1 is longer than 100 characters"),
    ("ids.csv", "assistant_id,team\nasst_1,a\nasst_2," + "t" * 200 + "\n", "line 3 is longer than 100 characters"),
    ("ids.csv", "assistant_id," + "c" * 200 + "\nasst_1,a\n", "line 1 is longer than 100 characters"),
    ("ids.json", '[\n"asst_1",\n"' + "z" * 300 + '"\n]', "the JSON element at line 3 is longer than 100 characters"),
])
def test_a_line_over_the_bound_is_refused_naming_it_before_any_id_is_used(tmp_path, short_lines, name, content,
                                                                          message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as refused:
        read_ids_file(path)  # not iterated: the whole file is checked before the first ID is handed out
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)


def test_lines_up_to_the_bound_and_a_json_array_on_one_line_are_fine(tmp_path, short_lines):
    text = tmp_path / "ids.txt"
    text.write_text("a" * 100 + "\r\n" + "b" * 100 + "\n" + "c" * 100, encoding="utf-8")
    assert list(read_ids_file(text)) == ["a" * 100, "b" * 100, "c" * 100]
    one_line = tmp_path / "ids.json"
    ids = [f"asst_{i:06d}" for i in range(20_000)]  # far longer than 100 characters, and than a read chunk
    one_line.write_text(json.dumps(ids), encoding="utf-8")
    assert list(read_ids_file(one_line)) == ids


def test_a_json_array_is_decoded_across_chunks(tmp_path, monkeypatch):
    from assistants_export.connectors.openai_assistants import ids as module

    monkeypatch.setattr(module._JsonArray, "CHUNK", 3)  # every element, number and literal split somewhere
    values = ["asst_1", 2.5e3, -7, 12345678901234567890, True, None, {"x": [1, 2]}, "é😀", "a,b]"]
    path = tmp_path / "ids.json"
    path.write_text(json.dumps(values, indent=1, ensure_ascii=False), encoding="utf-8")
    assert list(read_ids_file(path)) == values
    for bad in ('["a",]', "[1 2]", '["a"', "[", '["a"] x', "[tru]", "[1,,2]", "[1.]", ""):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(InputError, match="not valid JSON"):
            read_ids_file(path)


def test_a_csv_field_over_the_csv_limit_is_one_input_error(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text('assistant_id,notes\nasst_1,"' + "n" * 200_000 + '"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2: field larger than field limit"):
        read_ids_file(path)


def test_a_fifo_and_a_device_are_not_ids_files(tmp_path):
    fifo = tmp_path / "ids.fifo"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(InputError, match="does not exist or is not a file"):
            read_ids_file(path)
