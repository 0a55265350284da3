#!/usr/bin/env python3
"""Lists string literals of closed-set domain values in production code (issue 12, point 1).

The values are read from every `closed_set!` declaration (`Variant = "value"`); a literal counts
when it stands in production Rust code (api/src, common/src, worker/src) outside those declarations.
Not counted, because they are not the domain value: comments, `#[cfg(test)]` modules, attributes
(`#[utoipa::path(tag = "github")]`, `#[serde(...)]`), JSON object keys (`"error": …`, `v["error"]`,
`.get("error")`) and URL schemes (`"http" | "https"`). Prints one line per literal and the total; `--count` prints the total.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "api/src", ROOT / "common/src", ROOT / "worker/src"]
DECL = re.compile(r"closed_set!\s*\{(.*?)\n\}", re.S)
VALUE = re.compile(r"=\s*\"([^\"]+)\"")


def without_tests(text):
    cut = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
    return text[: cut.start()] if cut else text


def main():
    files = [p for src in SOURCES for p in sorted(src.rglob("*.rs"))]
    values = set()
    for path in files:
        for block in DECL.findall(path.read_text()):
            values.update(VALUE.findall(block))
    literal = re.compile(r"\"(" + "|".join(sorted(map(re.escape, values))) + r")\"(\s*:)?")
    found = []
    for path in files:
        text = DECL.sub(lambda m: "\n" * m.group(0).count("\n"), without_tests(path.read_text()))
        for number, line in enumerate(text.splitlines(), 1):
            code = line.split("//")[0] if not line.lstrip().startswith("//") else ""
            if not code.strip() or code.lstrip().startswith("#["):
                continue
            if re.search(r"scheme\(\)", code):
                continue
            for m in literal.finditer(code):
                before, after = code[: m.start()], code[m.end() :]
                if m.group(2):  # a JSON object key
                    continue
                if before.endswith("[") and after.startswith("]"):  # v["key"]
                    continue
                if before.endswith(".get("):  # v.get("key")
                    continue
                found.append(f"{path.relative_to(ROOT)}:{number}: \"{m.group(1)}\"  {code.strip()[:100]}")
    if "--count" not in sys.argv:
        print("\n".join(found))
    print(len(found))


main()
