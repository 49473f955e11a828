"""One hint per function: what students read next to a failed check or hidden test."""
from __future__ import annotations

HINTS = {
    "softmax": "Subtract each row's own maximum (axis=-1, keepdims=True) before np.exp.",
    "rnn_step_forward": "s_t = tanh(U @ x_t + W @ s_prev): check which matrix multiplies which vector.",
    "rnn_forward": "Start from s0 (zeros when None), feed each new state into the next step, and apply softmax to V @ s[t].",
    "cross_entropy_loss": "Sum -log o[t, y[t]] over time; do not average.",
    "softmax_jacobian": "J = diag(y) - outer(y, y).",
    "softmax_cross_entropy_grad": "Subtract 1 at each step's target class from o.",
    "rnn_backward": "dV sums outer(o_t - onehot(y_t), s_t); dW uses s_{t-1} (s0 at t = 0); the error must flow back through W and (1 - s**2).",
    "state_jacobian": "diag(1 - s_t**2) @ W scales the ROWS of W.",
    "jacobian_product": "Multiply J_t @ J_{t-1} @ ... @ J_{k+1}, the latest step on the left; t == k gives the identity.",
    "clip_gradient_norm": "Use one global norm over all arrays, and return new arrays.",
    "numerical_gradient": "Use (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) with the eps you are given, on a copy of x.",
    "sigmoid": "np.exp(-z) overflows for z = -1000: use 1 / (1 + exp(-z)) where z >= 0 and exp(z) / (1 + exp(z)) where z < 0.",
    "lstm_step_forward": "c_t = f * c_prev + i * C~; h_t = o * tanh(c_t); every gate reads [h_prev; x_t].",
    "lstm_forward": "Start from h0, c0 (zeros when None) and return (h, c) in that order.",
    "lstm_backward": "Carry dc from step to step through f_t, and add the h-half of every gate's input gradient to dh_{t-1}.",
    "gru_step_forward": "A small z keeps h_prev: h_t = (1 - z) * h_prev + z * h~.",
    "gru_forward": "Start from h0 (zeros when None).",
    "gru_backward": "h_prev reaches h_t by four routes: directly through (1 - z), through z, through r, and through r * h_prev inside the candidate.",
    "candidate_hidden": "The reset gate multiplies h_prev BEFORE the matrix product: tanh(Wh @ [r * h_prev; x_t] + bh).",
}
_GATE_HINT = "Every gate reads the concatenation [h_prev; x_t], h first: np.concatenate([h_prev, x_t])."


def hint_for(function: str) -> str:
    return "Hint: " + HINTS.get(function, _GATE_HINT)
