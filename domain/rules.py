"""The rule sets nimrs knows, by name. ``current`` (chart 002) is the default."""

from domain.charts import current, earlier
from domain.errors import ValidationFailed
from domain.taxonomy import RuleSet

DEFAULT_RULE_SET = "current"

RULE_SETS: dict[str, RuleSet] = {
    current.RULES.name: current.RULES,
    earlier.RULES.name: earlier.RULES,
}


def rule_set(name: str = DEFAULT_RULE_SET) -> RuleSet:
    try:
        return RULE_SETS[name]
    except KeyError:
        raise ValidationFailed(f"unknown rule set {name!r}; expected one of: {', '.join(RULE_SETS)}") from None
