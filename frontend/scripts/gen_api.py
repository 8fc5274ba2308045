"""Generate `src/api/schema.ts` from the server's OpenAPI document (`create_app().openapi()`).

    python frontend/scripts/gen_api.py           # write the file
    python frontend/scripts/gen_api.py --check   # exit 1 if the committed file is stale

Needs `npm ci` in frontend/ (openapi-typescript) and the `retouch` package importable.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[1]
SCHEMA = FRONTEND / "src" / "api" / "schema.ts"
GENERATOR = FRONTEND / "node_modules" / ".bin" / "openapi-typescript"
# fields with defaults stay optional in requests: the server fills them in
FLAGS = ["--default-non-nullable", "false"]


def openapi_document() -> dict:
    from retouch.server.app import create_app

    return create_app().openapi()


def generate() -> str:
    if not GENERATOR.exists():
        raise SystemExit(f"{GENERATOR} is missing: run `npm ci` in {FRONTEND}")
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "openapi.json"
        out = Path(tmp) / "schema.ts"
        spec.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True))
        subprocess.run(
            [str(GENERATOR), str(spec), "-o", str(out), *FLAGS], check=True, capture_output=True, cwd=FRONTEND
        )
        return out.read_text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed schema.ts is stale")
    args = parser.parse_args()
    fresh = generate()
    if args.check:
        if not SCHEMA.exists() or SCHEMA.read_text() != fresh:
            print(f"{SCHEMA} is stale: run `make api-client`", file=sys.stderr)
            return 1
        print(f"{SCHEMA.name} matches the server's OpenAPI")
        return 0
    SCHEMA.write_text(fresh)
    print(f"wrote {SCHEMA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
