"""Reports -> text (like a compiler), JSON, or SARIF 2.1.0 for code scanning.

Pure functions from Report data to strings; the command decides where they go.
Every output is deterministic: findings are sorted by location and code,
rules by number, and nothing carries a time stamp.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from hamodel import __version__
from hamodel import diagnostics as dg
from hamodel.check import Report
from hamodel.diagnostics import Diagnostic, Severity
from hamodel.source import SourceText, Span

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_text(reports: Sequence[Report], sources: Mapping[str, SourceText]) -> str:
    out: list[str] = []
    for r in reports:
        for f in r.findings:
            out.append(dg.render_text(f.diagnostic, dict(sources)))
            if f.witness is not None:
                out.append("  = witness (replayed by hamodel.semantics):")
                out += [f"      {line}" for line in f.witness.lines()]
        counts = _counts(r)
        out.append(
            f"{r.file}: {counts['error']} error(s), {counts['warning']} warning(s),"
            f" {counts['info']} info{' (analysis incomplete)' if r.incomplete else ''}"
        )
    return "\n".join(out) + "\n"


def _counts(r: Report) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in r.findings:
        sev = f.diagnostic.severity
        counts["info" if sev in (Severity.INFO, Severity.NOTE) else sev.value] += 1
    return counts


def render_json(reports: Sequence[Report]) -> str:
    files = []
    for r in reports:
        diags = []
        for f in r.findings:
            item = dg.to_json(f.diagnostic)
            info = dg.CODES.get(f.diagnostic.code)
            item["hint"] = info.hint if info else None
            item["witness"] = f.witness.to_json() if f.witness else None
            diags.append(item)
        files.append({
            "file": r.file,
            "incomplete": r.incomplete,
            "queries": dict(r.queries),
            "diagnostics": diags,
        })
    return json.dumps({"version": 1, "files": files}, indent=2) + "\n"


_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.NOTE: "note",
}


def _location(span: Span, message: str | None = None) -> dict:
    loc: dict = {
        "physicalLocation": {
            "artifactLocation": {"uri": span.file},
            "region": {
                "startLine": span.line,
                "startColumn": span.col,
                "endLine": span.end_line,
                "endColumn": span.end_col,
            },
        }
    }
    if message:
        loc["message"] = {"text": message}
    return loc


def render_sarif(reports: Sequence[Report]) -> str:
    used = sorted(
        {f.diagnostic.code for r in reports for f in r.findings},
        key=lambda c: (dg.CODES[c].number if c in dg.CODES else c),
    )
    rules = [
        {
            "id": dg.CODES[c].number if c in dg.CODES else c,
            "name": c,
            "shortDescription": {"text": c.replace("-", " ")},
            "help": {"text": dg.CODES[c].hint if c in dg.CODES else ""},
        }
        for c in used
    ]
    index = {c: i for i, c in enumerate(used)}
    results = []
    for r in reports:
        for f in r.findings:
            results.append(_result(f.diagnostic, index, f.witness, r.file))
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hamodel",
                        "version": __version__,
                        "informationUri": "https://docs.kernel.org/trace/rv/",
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _result(d: Diagnostic, index: Mapping[str, int], witness, file: str) -> dict:
    text = d.message
    if witness is not None:
        text += "\nwitness: " + "; ".join(witness.lines())
    result: dict = {
        "ruleId": d.number,
        "ruleIndex": index[d.code],
        "level": _LEVEL[d.severity],
        "message": {"text": text},
        "locations": [_location(d.span or Span(file, 1, 1, 1, 1))],
    }
    related = [
        dict(_location(n.span, n.message), id=i)
        for i, n in enumerate(d.notes)
        if n.span is not None
    ]
    if related:
        result["relatedLocations"] = related
    if witness is not None:
        result["properties"] = {"witness": witness.to_json()}
    return result
