#!/usr/bin/env python3
"""The ledger of vendor operations proven with each official SDK (ledger.json) and its matrix in docs/compat/genesys.md.

    ledger.py check PY_RESULTS JS_RESULTS   fail if an operation recorded as `pass` does not pass now
    ledger.py write PY_RESULTS JS_RESULTS   record the results (and rewrite the docs matrix)

A result file maps an operation (the Python SDK's name) to pass/fail for the tests tagged with it. An operation the
JS SDK does not have is `n/a` for JS; one no test names is `untested`.
"""
import json, pathlib, re, sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
LEDGER = HERE / "ledger.json"
DOC = ROOT / "docs/compat/genesys.md"
OPS = ROOT / "crates/compat-genesys/src/ops_generated.rs"


def js_names():
    text = OPS.read_text()
    return {m.group(1): m.group(2) for m in re.finditer(r'name: "([a-z0-9_]+)", js: (?:Some\("(\w+)"\)|None)', text)}


def load(path):
    p = pathlib.Path(path)
    return json.loads(p.read_text()) if p.exists() else {}


def current(py, js):
    names = js_names()
    ops = sorted(set(py) | set(js))
    out = {}
    for op in ops:
        if op not in names:
            sys.exit(f"a test names {op}, which is not an operation of the spec")
        out[op] = {"py": py.get(op, "untested"), "js": js.get(op, "untested") if names[op] else "n/a", "jsName": names[op]}
    return out


def matrix(ledger):
    mark = {"pass": "✅ pass", "fail": "❌ fail", "untested": "· untested", "n/a": "n/a"}
    rows = ["| operation (Python / JS name) | Python SDK 269.0.0 | JS SDK 262.0.0 |", "|---|---|---|"]
    for op, r in sorted(ledger.items()):
        rows.append(f"| `{op}` / `{r.get('jsName') or '–'}` | {mark[r['py']]} | {mark[r['js']]} |")
    return "\n".join(rows)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("check", "write"):
        sys.exit(__doc__)
    now = current(load(sys.argv[2]), load(sys.argv[3]))
    recorded = load(LEDGER)
    regressions = [
        f"{op} ({sdk}): recorded pass, now {now.get(op, {}).get(sdk, 'untested')}"
        for op, r in recorded.items()
        for sdk in ("py", "js")
        if r[sdk] == "pass" and now.get(op, {}).get(sdk) != "pass"
    ]
    gained = [f"{op} ({sdk})" for op, r in now.items() for sdk in ("py", "js")
              if r[sdk] == "pass" and recorded.get(op, {}).get(sdk) != "pass"]
    if sys.argv[1] == "write":
        LEDGER.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        doc = DOC.read_text()
        start, end = "<!-- ledger:start -->", "<!-- ledger:end -->"
        head, rest = doc.split(start, 1)
        _, tail = rest.split(end, 1)
        DOC.write_text(f"{head}{start}\n{matrix(now)}\n{end}{tail}")
        print(f"ledger written: {sum(r['py'] == 'pass' for r in now.values())} ops pass with Python, "
              f"{sum(r['js'] == 'pass' for r in now.values())} with JS")
        return
    for g in gained:
        print(f"newly passing (record with run.sh write): {g}")
    if regressions:
        print("REGRESSIONS against ledger.json:\n  " + "\n  ".join(regressions))
        sys.exit(1)
    failing = [f"{op} ({sdk})" for op, r in now.items() for sdk in ("py", "js") if r[sdk] == "fail"]
    if failing:
        print("failing: " + ", ".join(failing))
        sys.exit(1)
    print(f"ledger holds: {len(recorded)} operations recorded, no regression")


if __name__ == "__main__":
    main()
