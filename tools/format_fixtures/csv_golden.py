"""Writes the CSV fixture of the task-format tests with Python's csv module, and what csv.reader reads back.

    python3 tools/format_fixtures/csv_golden.py tests/Migu.Continual.Tests/Fixtures/formats

rfc4180.csv is written by csv.writer (the excel dialect: CRLF line ends, minimal quoting, quotes
doubled), so every hard case of RFC 4180 is there: commas, quotes and line breaks inside fields,
non-ASCII text, empty fields. rfc4180.expected.json is what csv.reader reads from the same bytes,
as [{"sentence", "label"}]: the reference our CSV reader is compared with. Standard library only.
"""
import csv
import io
import json
import pathlib
import sys

ROWS = [
    ("plain words", "World"),
    ("a comma, inside", "Sports"),
    ('a "quoted" word', "Business, Finance"),
    ("two\nlines", "Sci/Tech"),
    ("carriage\r\nreturn and newline", "World"),
    ("café ☕ 日本語 emoji 🙂", "Sports"),
    ("  spaces kept  ", "Business, Finance"),
    ("", "Sci/Tech"),
    ('"starts with a quote', "World"),
    ("ends with a comma,", "Sports"),
]


def main(out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # excel dialect: "\r\n" line ends, QUOTE_MINIMAL
    writer.writerow(["id", "sentence", "label", "note"])
    for i, (sentence, label) in enumerate(ROWS):
        writer.writerow([i, sentence, label, "x" if i % 2 else ""])
    data = buffer.getvalue().encode("utf-8")
    (out / "rfc4180.csv").write_bytes(data)

    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    expected = [{"sentence": r["sentence"], "label": r["label"]} for r in reader]
    assert [(e["sentence"], e["label"]) for e in expected] == ROWS
    (out / "rfc4180.expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
