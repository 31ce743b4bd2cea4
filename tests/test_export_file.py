"""Reading an export file a chunk at a time (`firmware.history.export_file`): the same values as
`json.load`, the kept traces read again one at a time, clear refusals for a file that is not
JSON, and a memory peak that does not hold the file's traces (tracemalloc, not wall time)."""

from __future__ import annotations

import base64
import gzip
import json
import tracemalloc

import pytest

from firmware.history import export_file
from firmware.history.export_file import ExportUnreadable, KeptItems, read_export

EXPORT = {"format": "stretchstep-export", "version": 3, "day_start_min": 240,
          "pain": [{"id": 1, "note": "Wade zieht, üble Nacht ☹", "pain": 4, "stiffness": None}],
          "sessions": [{"id": 1, "source": "hx711", "started": 1.5e9, "ended": 1500000123.25}],
          "settings": {"buzzer": False, "phone_sounds": True, "ratio": -0.125e-3},
          "traces": [{"session_id": 1, "day": "2026-03-08", "size": 3, "gzip_base64": "H4sI" * n}
                     for n in (1, 40, 3)],
          "events": [], "empty": {}, "nested": [[1, 2, [3]], {"a": {"b": []}}]}


def plain(data):
    return {k: list(v) if isinstance(v, KeptItems) else v for k, v in data.items()}


@pytest.mark.parametrize("chunk", [1, 5, 7, 64, 1 << 20])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_it_reads_what_json_load_reads_across_every_chunk_boundary(tmp_path, monkeypatch, chunk, ascii_only):
    monkeypatch.setattr(export_file, "CHUNK", chunk)
    path = tmp_path / "e.json"
    path.write_text(json.dumps(EXPORT, indent=1, ensure_ascii=ascii_only), encoding="utf-8")
    data = read_export(path)
    assert isinstance(data["traces"], KeptItems) and len(data["traces"]) == 3
    assert plain(data) == json.loads(path.read_text(encoding="utf-8"))
    assert list(data["traces"]) == list(data["traces"])          # gone through again, from the file


def test_a_file_that_is_no_object_reads_as_json_does(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(' [1, {"traces": [2]}] \n')
    assert read_export(path) == [1, {"traces": [2]}]


@pytest.mark.parametrize("text, match", [
    ("", "the file is empty"),
    (" \n", "the file is empty"),
    ("type,id,day,time,leg\nstretch,1,2026-03-08,",
     r"the CSV export; import reads the JSON one \(stretchstep export --format json"),
    ('{"format": "stretchstep-export", "traces": [{"a": 1}, ', "Expecting value at byte 54: the file stops "
     "before the JSON does, it was cut short"),
    ('{"format": "stretchstep-export"', "expected ',' or '}' at byte 31, found the end of the file: the file "
     "stops before the JSON does"),
    ('{"traces": [{"a": 1} {"a": 2}]}', r"expected ',' or '\]' at byte 21, found '\{'"),
    ('{"a": 1} x', "extra data after the JSON at byte 9"),
    ('{"a": 1, }', "expected '\"' at byte 9, found '}'"),
    ('{"a" 1}', "expected ':' at byte 5, found '1'"),
    ('{"a": "\x01"}', "Invalid control character at byte 7"),
    ('{"a": x}', r"Expecting value at byte 6$"),      # a mistake near the end is not a file cut short
])
def test_a_file_that_is_not_json_is_refused_saying_where(tmp_path, monkeypatch, text, match):
    monkeypatch.setattr(export_file, "CHUNK", 4)
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ExportUnreadable, match=match):
        read_export(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"note": "\xff\xfe"}')
    with pytest.raises(ExportUnreadable, match="not UTF-8 text"):
        read_export(path)


def test_a_file_changed_after_it_was_read_is_not_gone_through_again(tmp_path):
    path = tmp_path / "e.json"
    path.write_text(json.dumps(EXPORT))
    traces = read_export(path)["traces"]
    path.write_text(json.dumps(EXPORT | {"traces": []}))
    with pytest.raises(ExportUnreadable, match="changed while it was imported"):
        list(traces)


def test_reading_holds_one_trace_not_the_file(tmp_path):
    """80 traces of 400 KB: json.load holds them all (64 MB and more); this holds a few read
    chunks (1 MiB) and one trace."""
    blob = gzip.compress(bytes(range(256)) * 4096, compresslevel=0)[:300_000]
    traces = [{"session_id": n, "day": "2026-03-08", "size": len(blob),
               "gzip_base64": base64.b64encode(blob).decode()} for n in range(80)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"format": "stretchstep-export", "version": 3, "traces": traces}))
    assert path.stat().st_size > 32_000_000
    tracemalloc.start()
    try:
        data = read_export(path)
        sizes = [len(item["gzip_base64"]) for item in data["traces"]]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sizes == [400_000] * 80
    assert peak < 8_000_000, peak


def test_an_export_changed_between_reading_and_writing_its_traces_imports_nothing(store, tmp_path):
    from firmware.history import ImportRefused, import_data

    path = tmp_path / "e.json"
    blob = base64.b64encode(gzip.compress(b"x")).decode()
    trace = {"session_id": 1, "day": "2026-03-08", "gzip_base64": blob}
    path.write_text(json.dumps(EXPORT | {"pain": [], "traces": [trace]}))
    data = read_export(path)
    path.write_text(json.dumps(EXPORT | {"pain": []}))
    with pytest.raises(ImportRefused, match="changed while it was imported"):
        import_data(store, data, tmp_path / "data")
    assert store.counts() == {"sessions": 0, "stretches": 0, "events": 0, "pain_log": 0}
    assert not (tmp_path / "data" / "traces").exists() or not list((tmp_path / "data" / "traces").iterdir())
