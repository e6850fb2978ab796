"""`hamodel export`: a model in another tool's language, with the framework's semantics.

tchecker.py  Automaton -> TChecker's timed-automaton file (tck-reach, tck-liveness)
command.py   the CLI subcommand
"""
