"""Properties of step suggestion that hold for every model and every hour total."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ledger.tariffs import MODELS, TariffModel


@st.composite
def model_ladder_and_hours(
    draw: st.DrawFn,
) -> tuple[TariffModel, int | None, Decimal]:
    """Draw a model, a Takst where it has one, and hours from 0 to its top."""
    model = draw(st.sampled_from(list(MODELS.values())))
    takst = draw(st.sampled_from(model.takster)) if model.takster else None
    top = max(step.max_hours for step in model.steps)
    hours = draw(st.decimals(min_value=Decimal(0), max_value=top, places=3))
    return model, takst, hours


@given(model_ladder_and_hours())
def test_the_suggested_step_contains_the_hours(
    case: tuple[TariffModel, int | None, Decimal],
) -> None:
    """The suggested step's [min, max) holds h, the top step also its max (G9).

    Below the bottom step (only §85, which starts at 2 h) the bottom step is
    suggested.
    """
    model, takst, hours = case

    step = model.suggest_step(hours, takst=takst)

    assert takst == step.takst
    if hours < step.min_hours:
        assert step is model.steps[0]
    elif model.is_top(step.code):
        assert step.min_hours <= hours <= step.max_hours
    else:
        assert step.min_hours <= hours < step.max_hours


@given(model_ladder_and_hours(), st.decimals(min_value=0, max_value=200, places=3))
def test_more_hours_never_suggest_a_lower_step(
    case: tuple[TariffModel, int | None, Decimal], extra: Decimal
) -> None:
    """Suggestion is monotone: adding hours keeps or raises the step."""
    model, takst, hours = case

    lower = model.suggest_step(hours, takst=takst)
    higher = model.suggest_step(hours + extra, takst=takst)

    assert model.steps.index(lower) <= model.steps.index(higher)
