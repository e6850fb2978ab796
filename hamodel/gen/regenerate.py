"""Rebuild generated/: every model in models/ for every target, every LTL spec for kernel C;
and hamodel/lalr_tables/: the parsers of grammar/*.lark (hamodel/lalr.py).

    python -m hamodel.gen.regenerate            # rewrite generated/ and the parser tables
    python -m hamodel.gen.regenerate --check    # exit 1 and list what is stale

tests/test_generated.py runs the check, so a change to a template, a generator,
a model or a grammar that is not followed by a regeneration fails the suite.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel.binding import find_binding
from hamodel.gen import TARGETS, GenOptions, target_module
from hamodel.load import load_model
from hamodel.output import write_tree

ROOT = Path(__file__).resolve().parent.parent.parent


def expected_tree(root: Path = ROOT) -> dict[str, str]:
    """generated/ as it should be: relative path -> text."""
    tree: dict[str, str] = {}
    for model in sorted((root / "models").glob("*.dot")):
        automaton, diags = load_model(model)
        if automaton is None:
            raise SystemExit(f"{model}: " + "; ".join(d.message for d in diags if d.is_error))
        binding, bdiags = find_binding(model, automaton)
        if dg.has_errors(bdiags):
            raise SystemExit(f"{model}: binding: " + "; ".join(d.message for d in bdiags))
        rel_model = model.relative_to(root).as_posix()
        for target in sorted(TARGETS):
            options = GenOptions(model_path=rel_model, binding=binding)
            files = target_module(target).generate(automaton, options)
            for rel, text in files.items():
                tree[f"{automaton.name}/{target}/{rel}"] = text
    tree.update(ltl_tree(root))
    return tree


def ltl_tree(root: Path = ROOT) -> dict[str, str]:
    """generated/<m>/kernel-c/ of every LTL spec in models/ (hamodel/gen/kernel_c_ltl.py)."""
    from hamodel.gen import kernel_c_ltl
    from hamodel.ltl.binding import find_ltl_binding
    from hamodel.ltl.load import load_ltl

    tree: dict[str, str] = {}
    for path in sorted((root / "models").glob("*.ltl")):
        spec, diags = load_ltl(path)
        if spec is None:
            raise SystemExit(f"{path}: " + "; ".join(d.message for d in diags if d.is_error))
        binding, bdiags = find_ltl_binding(path, spec)
        if dg.has_errors(bdiags):
            raise SystemExit(f"{path}: binding: " + "; ".join(d.message for d in bdiags))
        options = kernel_c_ltl.LtlOptions(model_path=path.relative_to(root).as_posix(),
                                          binding=binding)
        for rel, text in kernel_c_ltl.generate(spec, options).items():
            tree[f"{spec.name}/kernel-c/{rel}"] = text
    return tree


def actual_tree(root: Path = ROOT) -> dict[str, str]:
    gen = root / "generated"
    return {
        p.relative_to(gen).as_posix(): p.read_text()
        for p in sorted(gen.rglob("*"))
        if p.is_file() and p.name != "README.md"
    }


def stale(root: Path = ROOT) -> list[str]:
    want, have = expected_tree(root), actual_tree(root)
    return sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))


def stale_tables() -> list[str]:
    """The grammars whose table module was not made from the grammar as it is now."""
    from hamodel import lalr

    out = []
    for name in sorted(lalr.GRAMMARS):
        try:
            module = importlib.import_module(f"{lalr.TABLES_PACKAGE}.{name}")
        except ImportError:
            out.append(name)
            continue
        if module.GRAMMAR_KEY != lalr.grammar_key(name):
            out.append(name)
    return out


def write_tables() -> None:
    from hamodel import lalr

    tables = {f"{name}.py": lalr.table_module_text(name) for name in sorted(lalr.GRAMMARS)}
    write_tree(ROOT / "hamodel" / "lalr_tables", tables)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hamodel.gen.regenerate")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        bad = [f"generated/{path}" for path in stale()]
        bad += [f"hamodel/lalr_tables/{name}.py" for name in stale_tables()]
        for path in bad:
            print(f"stale: {path}")
        return 1 if bad else 0
    write_tables()
    want = expected_tree()
    gen = ROOT / "generated"
    for rel in set(actual_tree()) - set(want):
        (gen / rel).unlink()
    write_tree(gen, want)
    print(f"generated/: {len(want)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
