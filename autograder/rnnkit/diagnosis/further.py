"""After the catalogue and the generated models: inherited failures traced, and the rest localised.

:func:`explain_further` runs once per task, after :meth:`.matching.Diagnoser.diagnose_part` and
:func:`rnnkit.mutants.match.name_generated`, on the functions of the part that lost credit:

* a function whose failure comes only from a helper of the student's (:mod:`.inherit`) is told
  so, with the helper's named mistake when it has one (and nothing is localised in it: its own
  lines are not where the error is);
* a function with no named mistake gets the sentences of :mod:`.domain` (the failing cases are one option of the
  spec's) and :mod:`.localise`: where it goes wrong.

The sentences go to ``FunctionResult.where``; the feedback shows them under "Where it goes wrong".
"""
from __future__ import annotations

from typing import Any, Callable

from .domain import by_domain
from .localise import by_controls, by_items, by_items_on_one_step

Close = Callable[[Any, Any], bool]


def _failed(result) -> bool:
    return bool(result.cases) and not result.passed and not result.problem


def explain_further(results: dict, part, caseset, layout, module, close: Close, is_named: Callable, inherit: Callable) -> None:
    """Fill ``where`` (and inherited diagnoses) of the failed functions of ``part`` in ``results``.

    ``is_named(diagnosis)``: a diagnosis that names a mistake (not a general pattern);
    ``inherit(diagnosis, home)``: a copy of ``diagnosis`` marked as coming from the function ``home``.
    """
    from .inherit import inherited_from

    names = [f.name for f in part.functions if f.name in results and _failed(results[f.name])]
    roots: dict[str, list[str]] = {}  # function -> the helpers its failure comes from, at the end of the chain
    for name in names:  # in course order: a helper before the functions that call it
        result = results[name]
        result.where = []
        named = [d for d in result.diagnoses if is_named(d)]
        homes = [] if layout is None else inherited_from(name, results, caseset.probes, caseset.probe_answers, layout, module, close)
        if homes:
            listed = ", ".join(f"`{h}`" for h in homes)
            root = list(dict.fromkeys(r for h in homes for r in roots.get(h, [h])))
            roots[name] = root
            first = ", ".join(f"`{r}`" for r in root)
            via = "" if root == homes else f" (its own failure comes from your {first})"
            result.where.append(
                f"Your `{name}` itself looks right: on the probes where we could check, it returns exactly what a correct "
                f"`{name}` gives with your own {listed}, which {'loses' if len(homes) == 1 else 'lose'} credit{via}. "
                f"Fix {first} first, then check this function again."
            )
            if not named:
                result.diagnoses = [inherit(d, h) for h in homes for d in results[h].diagnoses if is_named(d) and not d.inherited]
            continue
        if named:
            continue
        said = by_controls(name, result.probes, caseset.probe_answers.get(name, []), close)
        if said:
            result.where.append(said)
        split = by_domain(name, caseset.cases[name], result.cases)
        if split:
            result.where.append(split)
        items = by_items(name, result.cases, caseset.expected[name], [c.dims for c in caseset.cases[name]], close)
        if not items:  # every item wrong: where the error has not spread through time yet, it may still be one item
            items = by_items_on_one_step(name, result.probes, caseset.probe_answers.get(name, []), caseset.cases[name][0].dims, close)
        result.where += items
