"""The student API (docs/student-api.md) as data: parts, functions, parameter names.

The contract every part of the kit follows. A test checks that the reference
solutions' signatures match it exactly.
"""
from __future__ import annotations

#: part -> function -> parameter names, in the spec's order.
API: dict[str, dict[str, tuple[str, ...]]] = {
    "rnn_forward": {
        "softmax": ("z",),
        "rnn_step_forward": ("x_t", "s_prev", "U", "W"),
        "rnn_forward": ("x", "U", "W", "V", "s0"),
        "cross_entropy_loss": ("o", "y"),
    },
    "softmax_derivative": {
        "softmax_jacobian": ("y",),
        "softmax_cross_entropy_grad": ("o", "y"),
    },
    "bptt": {
        "rnn_backward": ("x", "y", "U", "W", "V", "s0", "bptt_truncate"),
        "state_jacobian": ("s_t", "W"),
        "jacobian_product": ("s", "W", "t", "k"),
        "clip_gradient_norm": ("grads", "max_norm"),
        "numerical_gradient": ("f", "x", "eps"),
    },
    "lstm": {
        "sigmoid": ("z",),
        "forget_gate": ("h_prev", "x_t", "Wf", "bf"),
        "input_gate": ("h_prev", "x_t", "Wi", "bi"),
        "candidate_cell": ("h_prev", "x_t", "Wc", "bc"),
        "output_gate": ("h_prev", "x_t", "Wo", "bo"),
        "lstm_step_forward": ("x_t", "h_prev", "c_prev", "params"),
        "lstm_forward": ("x", "params", "h0", "c0"),
        "lstm_backward": ("x", "params", "dh", "h0", "c0"),
    },
    "gru": {
        "update_gate": ("h_prev", "x_t", "Wz", "bz"),
        "reset_gate": ("h_prev", "x_t", "Wr", "br"),
        "candidate_hidden": ("h_prev", "x_t", "r_t", "Wh", "bh"),
        "gru_step_forward": ("x_t", "h_prev", "params"),
        "gru_forward": ("x", "params", "h0"),
        "gru_backward": ("x", "params", "dh", "h0"),
    },
}

#: part -> its functions, in the spec's order.
SPEC_FUNCTIONS: dict[str, tuple[str, ...]] = {part: tuple(fns) for part, fns in API.items()}

#: function -> its parameter names.
ARGUMENTS: dict[str, tuple[str, ...]] = {fn: params for fns in API.values() for fn, params in fns.items()}

#: Names of the items of functions that return tuples, for messages ("the states s").
RETURNS: dict[str, tuple[str, ...]] = {
    "rnn_forward": ("s", "o"),
    "lstm_step_forward": ("h_t", "c_t"),
    "lstm_forward": ("h", "c"),
}

#: Each function's input domain, as the spec allows it: axes (optional arguments, ranks, regimes) whose
#: every combination the hidden cases must cover (``tests/test_domains.py`` checks it). A case states its
#: point in ``Case.point``. Functions not listed have no optional arguments or regimes.
DOMAINS: dict[str, dict[str, tuple]] = {
    "softmax": {"rank": (1, 2)},
    "rnn_forward": {"s0": ("given", None)},
    "rnn_backward": {"s0": ("given", None), "bptt_truncate": (None, 0, "small", ">= T")},
    "clip_gradient_norm": {"norm": ("above max_norm", "below max_norm")},
    "numerical_gradient": {"rank": (1, 2, 3), "eps": ("default", "given")},
    "sigmoid": {"rank": (1, 2)},
    "lstm_forward": {"h0": ("given", None), "c0": ("given", None)},
    "lstm_backward": {"h0": ("given", None), "c0": ("given", None)},
    "gru_forward": {"h0": ("given", None)},
    "gru_backward": {"h0": ("given", None)},
}
