#!/usr/bin/env python3
"""Writes the manifests the print benchmark reads.

Usage:
  gen_manifest.py [FUNCTIONS]   a service with FUNCTIONS functions (default 200)
  gen_manifest.py --alias-bomb  a ~1 KB service whose YAML aliases expand to 9^9 strings

Each generated function has a handler, a memorySize, an environment that uses `${self:...}` and
`${sls:stage}` variables, an `http` event and a `schedule` event, so that printing the service
exercises parsing, variable resolution and the Framework's defaults on every function.
"""

import sys


def large_service(functions: int) -> str:
    lines = [
        "service: bench-large",
        "frameworkVersion: '3'",
        "provider:",
        "  name: aws",
        "  runtime: nodejs20.x",
        "  stage: dev",
        "  region: ${opt:region, 'us-east-1'}",
        "  environment:",
        "    SERVICE_NAME: ${self:service}",
        "    STAGE: ${sls:stage}",
        "custom:",
        "  tablePrefix: ${self:service}-${sls:stage}",
        "functions:",
    ]
    memory_sizes = (128, 256, 512, 1024)
    for index in range(functions):
        name = f"function{index:03d}"
        lines += [
            f"  {name}:",
            f"    handler: src/{name}.handler",
            f"    memorySize: {memory_sizes[index % len(memory_sizes)]}",
            "    environment:",
            f"      TABLE_NAME: ${{self:custom.tablePrefix}}-{name}",
            f"      FUNCTION_ID: {name}-${{sls:stage}}",
            "      SERVICE: ${self:service}",
            "    events:",
            "      - http:",
            f"          path: {name}/{{id}}",
            "          method: get",
            f"      - schedule: rate({index % 58 + 2} minutes)",
        ]
    return "\n".join(lines) + "\n"


def alias_bomb() -> str:
    """The "billion laughs" shape: each level is a list of 9 aliases of the level before."""
    levels = "abcdefghi"
    lines = [
        "service: bad",
        "frameworkVersion: '3'",
        "provider:",
        "  name: aws",
        "  runtime: nodejs20.x",
        "functions:",
        "  hello:",
        "    handler: handler.hello",
        "custom:",
        '  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    for previous, level in zip(levels, levels[1:]):
        items = ", ".join([f"*{previous}"] * 9)
        lines.append(f"  {level}: &{level} [{items}]")
    return "\n".join(lines) + "\n"


def main() -> int:
    arguments = sys.argv[1:]
    if arguments == ["--alias-bomb"]:
        sys.stdout.write(alias_bomb())
        return 0
    try:
        functions = int(arguments[0]) if arguments else 200
    except ValueError:
        print(f"usage: {sys.argv[0]} [FUNCTIONS | --alias-bomb]", file=sys.stderr)
        return 2
    sys.stdout.write(large_service(functions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
