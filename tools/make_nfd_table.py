#!/usr/bin/env python3
"""Writes src/Migu.Models/Tokenizers/Embedded/unicode/nfd.json: the canonical decomposition (NFD)
of every code point that has one, except the Hangul syllables (decomposed by rule in C#).

Why: BERT's accent stripping is NFD followed by dropping nonspacing marks, and the migu CLI runs
with InvariantGlobalization, where .NET's string.Normalize does nothing; the table makes both the
library and the CLI decompose the same way. Made from Python's unicodedata (Unicode 14 with Debian 12's Python 3.11).

Usage: /usr/bin/python3 tools/make_nfd_table.py src/Migu.Models/Tokenizers/Embedded/unicode/nfd.json
"""
import json
import sys
import unicodedata


def main():
    table = {}
    for cp in range(0x110000):
        if 0xAC00 <= cp <= 0xD7A3 or 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        d = unicodedata.normalize("NFD", c)
        if d != c:
            table[f"{cp:X}"] = " ".join(f"{ord(x):X}" for x in d)
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump({"unicode_version": unicodedata.unidata_version, "nfd": table}, f, separators=(",", ":"))
    print(len(table), "decompositions, Unicode", unicodedata.unidata_version)


if __name__ == "__main__":
    main()
