"""Prints how botocore itself reads a config or credentials file, as JSON, for the compatibility
test: {"ok": true, "profiles": {...}, "sso_sessions": {...}, "services": {...}} or
{"ok": false, "error": "..."} when botocore refuses the file.

Usage: botocore_config.py config|credentials PATH
"""
import json
import sys

from botocore import configloader
from botocore.exceptions import ConfigParseError

kind, path = sys.argv[1], sys.argv[2]
try:
    raw = configloader.raw_config_parse(path)
except ConfigParseError as e:
    print(json.dumps({"ok": False, "error": str(e)}))
    sys.exit(0)
if kind == "credentials":
    out = {"profiles": raw, "sso_sessions": {}, "services": {}}
else:
    built = configloader.build_profile_map(raw)
    out = {k: built[k] for k in ("profiles", "sso_sessions", "services")}
out["ok"] = True
print(json.dumps(out))
