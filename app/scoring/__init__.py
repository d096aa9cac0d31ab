"""The pure ICP scoring core: definition schema, compiler, engine and reasons.

No I/O, no clock, no randomness, and no import from the rest of ``app`` (DESIGN §2).
"""

from app.scoring.definition import (
    CANONICAL_FIELDS,
    IcpDefinition,
    IcpDefinitionError,
    ordered_definition,
    parse_definition,
)
from app.scoring.engine import (
    CompiledIcp,
    CriterionOutcome,
    ScoreResult,
    compile_icp,
    score_account,
)

__all__ = [
    "CANONICAL_FIELDS",
    "CompiledIcp",
    "CriterionOutcome",
    "IcpDefinition",
    "IcpDefinitionError",
    "ScoreResult",
    "compile_icp",
    "ordered_definition",
    "parse_definition",
    "score_account",
]
