#!/usr/bin/python3
"""Validates JSON documents against a JSON Schema (draft 2020-12), with format checking.

Usage: validate_json.py SCHEMA FILE...
Every *.json schema beside SCHEMA is loaded too, so "$ref": "cloudevent.json" resolves.
Exit 0 when every FILE is valid; 1 with one line per error otherwise; 2 on usage errors.
"""
import datetime
import json
import pathlib
import re
import sys

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

# python3-jsonschema checks date-time / uri only when optional packages are installed; these
# checkers make the check real without them (RFC 3339 section 5.6, RFC 3986 appendix B).
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI_REF = re.compile(r"^(([^:/?#\s]+):)?(//([^/?#\s]*))?([^?#\s]*)(\?([^#\s]*))?(#(\S*))?$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _date_time(value):
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    text = value.upper().replace("Z", "+00:00")
    if "." in text:  # Python < 3.11 accepts 3 or 6 fraction digits only
        head, rest = text.split(".", 1)
        frac = re.match(r"\d+", rest).group(0)
        text = head + "." + (frac + "000000")[:6] + rest[len(frac):]
    text = text.replace(":60", ":59")  # leap second
    try:
        datetime.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _uri_reference(value):
    return not isinstance(value, str) or bool(_URI_REF.match(value))


def _uri(value):
    return not isinstance(value, str) or (_uri_reference(value) and bool(_SCHEME.match(value)))


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    schema_path = pathlib.Path(argv[1])
    schema = json.loads(schema_path.read_text())
    store = {}
    for p in schema_path.parent.glob("*.json"):
        try:
            s = json.loads(p.read_text())
        except ValueError:
            continue
        if isinstance(s, dict) and "$id" in s:
            store[s["$id"]] = s
    Draft202012Validator.check_schema(schema)
    checker = FormatChecker()
    checker.checkers["date-time"] = (_date_time, ())
    checker.checkers["uri"] = (_uri, ())
    checker.checkers["uri-reference"] = (_uri_reference, ())
    resolver = jsonschema.RefResolver.from_schema(schema, store=store)
    validator = Draft202012Validator(schema, resolver=resolver, format_checker=checker)
    failed = False
    for name in argv[2:]:
        try:
            doc = json.loads(pathlib.Path(name).read_text())
        except ValueError as e:
            print(f"{name}: not JSON: {e}")
            failed = True
            continue
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            path = "/".join(str(x) for x in err.absolute_path)
            print(f"{name}: /{path}: {err.message}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
