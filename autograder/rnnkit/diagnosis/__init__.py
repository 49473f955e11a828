"""Known mistakes: a catalogue, and recognisers that say which one a student made.

A student who fails a hidden case learns *that* something is wrong ("3 of 12
entries are wrong"). This package tries to say *what*, the way a teaching
assistant would: "your output matches what we get when W is transposed".

Every recogniser works from the student's outputs only (the values returned and
the arguments as the call left them), never from the source text, so coding
style does not matter. There are two kinds:

* a :class:`Variant` computes, here in the grader, what the mistake produces on
  each hidden case's inputs (small functions, mostly built from the reference
  functions). It matches when the student's outputs agree with the variant's
  within the course tolerance on *every* case (passed cases included, so a
  coincidence on one case is not enough) and the variant differs from the
  reference on at least one of them;
* a :class:`Pattern` looks at the shape of the error (right up to one constant
  factor, only the first step right, ...). Patterns are general and only speak
  when no specific mistake matched.

Only functions that lost credit are diagnosed, so a correct submission never
gets a mistake named. When nothing matches, the feedback stays general.

Variants run trusted code only (the reference and this package) on the hidden
inputs; student code never runs here.

The package, by concern:

* :mod:`.model`: the data model (:class:`Variant`, :class:`Pattern`,
  :class:`Mistake`, :class:`Diagnosis`, ``V(...)``, ``IN_PLACE``) and the small
  helpers every recogniser shares (``_close``, ``_data_args``, ``_roll``, ...);
* :mod:`.catalogue`: :data:`CATALOGUE`, ``_add`` and :func:`recognisers_for`;
  it imports the parts in course order, then the general patterns, and that
  order decides which match is named first and the order of ``mistakes.csv``;
* :mod:`.parts` (``rnn_forward``, ``softmax_derivative``, ``bptt``, ``lstm``,
  ``gru``): each part's variants and its catalogue entries, read in one place;
* :mod:`.patterns`: the general patterns, last in the catalogue;
* :mod:`.matching`: :class:`Seen`, :class:`Diagnoser` and :func:`diagnose_class`
  (which mistake a student's outputs match, and which one is named);
* :mod:`.summary`: :func:`count_mistakes`, the instructor's summary;
* :mod:`.controls`, :mod:`.localise`, :mod:`.inherit` and :mod:`.further`: when no mistake is
  named, *where* the outputs go wrong (controlled probes that switch one term off, the items,
  gates and time steps), and failures inherited from a helper of the student's, traced with
  dependency probes.
"""
from __future__ import annotations

from .model import Diagnosis, Mistake, Pattern, Variant
from .catalogue import CATALOGUE, recognisers_for
from .matching import Diagnoser, Seen, diagnose_class, seen_from_outcome
from .summary import MistakeCount, count_mistakes

__all__ = [
    "CATALOGUE",
    "Diagnoser",
    "Diagnosis",
    "Mistake",
    "MistakeCount",
    "Pattern",
    "Seen",
    "Variant",
    "count_mistakes",
    "diagnose_class",
    "recognisers_for",
    "seen_from_outcome",
]
