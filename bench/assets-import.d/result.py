#!/usr/bin/env python3
"""Reads an answer of POST /api/v1/assets/import (or GET /api/v1/assets)
for bench/assets-import.

  result.py import FILE.json
      Prints "created updated unchanged committed errors" (committed: 1/0);
      on stderr the first few errors, if any. Exit 1 when FILE is not the
      JSON of an import answer.

  result.py total FILE.json
      Prints the "total" of an asset list answer.
"""

import json
import sys


def main() -> int:
    mode, path = sys.argv[1], sys.argv[2]
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"not JSON: {e}", file=sys.stderr)
        return 1
    if mode == "total":
        if not isinstance(doc, dict) or "total" not in doc:
            print(f"no total in {str(doc)[:300]}", file=sys.stderr)
            return 1
        print(doc["total"])
        return 0
    if not isinstance(doc, dict) or "created" not in doc:
        print(f"not an import answer: {str(doc)[:300]}", file=sys.stderr)
        return 1
    errors = doc.get("errors") or []
    for e in errors[:5]:
        print(f"   line {e.get('line')} {e.get('field')}: {e.get('message')}", file=sys.stderr)
    if len(errors) > 5:
        print(f"   … {len(errors) - 5} more errors", file=sys.stderr)
    print(doc["created"], doc["updated"], doc["unchanged"], 1 if doc.get("committed") else 0, len(errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
