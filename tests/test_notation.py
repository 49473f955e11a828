"""Generated changes are told in the notebooks' notation, never as reference code."""
from __future__ import annotations

import ast
import re

import pytest

from rnnkit import content
from rnnkit.mutants.generate import mutants
from rnnkit.mutants.notation import notation, statement_formula

#: (part, a line of reference code, how the notebook writes it)
LINES = [
    ("rnn_forward", "s_t = np.tanh(U @ x_t + W @ s_prev)", "s_t = tanh(U x_t + W s_{t-1})"),
    ("bptt", "delta = (W.T @ delta) * (1.0 - s[k - 1] ** 2)", "δ = (Wᵀ δ) ⊙ (1 - s_{k-1}²)"),
    ("bptt", "dW += np.outer(delta, s_before)", "dW += δ s_{k-1}ᵀ"),
    ("lstm", "c_t = f * c_prev + i * c_tilde", "C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t"),
    ("lstm", 'grads["W" + g] += np.outer(da[g], hx)', "dW_g += δa_g [h_{t-1}; x_t]ᵀ"),
    ("gru", "dz = dh_t * (h_tilde - h_prev)", "δz_t = δh_t ⊙ (h̃_t - h_{t-1})"),
]


@pytest.mark.parametrize("part, code, formula", LINES)
def test_a_line_is_rendered_as_the_notebook_writes_it(part, code, formula):
    assert statement_formula(ast.parse(code).body[0], "f", part) == formula


def test_what_has_no_name_in_the_notation_is_not_rendered():
    assert notation(ast.parse("cache[t]", mode="eval").body, "lstm") is None
    assert notation(ast.parse("np.einsum('ij,j', W, s)", mode="eval").body, "bptt") is None


#: Pieces of Python that must never reach a student through a generated change's words.
CODE = re.compile(r"np\.|\*\*|params\[|grads\[|\.T\b|@|_prev\b|c_tilde|h_tilde|np\.outer|concatenate")


@pytest.mark.parametrize("part", ["rnn_forward", "softmax_derivative", "bptt", "lstm", "gru"])
def test_no_generated_words_show_code(course, part):
    source = content.reference_code(content.read_source(course.solutions_dir, part))
    changes = mutants(source, [f.name for f in course.part(part).functions], part=part)
    shown = [m.words for m in changes if CODE.search(m.words)]
    assert not shown, shown[:5]
    assert sum(", in `" in m.words for m in changes) >= len(changes) // 4, "most changes name the formula of their line"
