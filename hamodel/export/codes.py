"""The stable codes of `hamodel export` (HA4xx), registered beside the others."""

from hamodel.diagnostics import register

CONSTANT_TOO_LARGE = register(
    "HA401", "export-constant-too-large",
    "TChecker's default 32-bit build bounds clock constants by 2^30 - 2: give smaller"
    " bounds or parameter values",
)
NOT_EXPORTABLE = register(
    "HA402", "export-unsupported",
    "the checker cannot analyse this model either (docs/check.md, Limits)",
)
