"""Lark LALR tables of grammar/*.lark, made by `python -m hamodel.gen.regenerate`."""
