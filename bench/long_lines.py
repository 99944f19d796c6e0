#!/usr/bin/env python3
"""Writes manifests whose content sits on one long line, for bench/long_lines.sh.

Usage: long_lines.py DIR

- minified.json: a minified serverless.json with 1,500 functions (handler, an http event,
  an environment), one line of about 170 KB;
- items.yml: a flow list of 80,000 numbers on one line under `custom`;
- keys.yml: a flow mapping of 40,000 keys on one line under `custom`;
- items-wide.yml: the 80,000 items again, each holding a two-byte character, so that the
  character-to-byte lookups take their slow path.
"""

import json
import os
import sys

HEAD = "service: long-lines\nprovider: {name: aws, runtime: nodejs20.x}\n"


def main() -> None:
    out = sys.argv[1]
    functions = {
        f"fn{index}": {
            "handler": f"src/h{index}.handler",
            "events": [{"http": {"path": f"p{index}", "method": "get"}}],
            "environment": {"INDEX": str(index)},
        }
        for index in range(1500)
    }
    service = {
        "service": "long-lines",
        "provider": {"name": "aws", "runtime": "nodejs20.x"},
        "functions": functions,
    }
    files = {
        "minified.json": json.dumps(service, separators=(",", ":")),
        "items.yml": HEAD + "custom: {list: [" + ", ".join(str(i) for i in range(80000)) + "]}\n",
        "keys.yml": HEAD + "custom: {" + ", ".join(f"k{i}: {i}" for i in range(40000)) + "}\n",
        "items-wide.yml": HEAD
        + "custom: {list: ["
        + ", ".join(f"\u00e9{i}" for i in range(80000))
        + "]}\n",
    }
    for name, text in files.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as file:
            file.write(text)


if __name__ == "__main__":
    main()
