# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Part 5 — Gated recurrent units (GRU)
#
# The LSTM of Part 4 keeps two states and uses four sets of weights. The
# **gated recurrent unit** (GRU) gets most of the same benefit with less: a
# single state $h_t$ and two gates. An *update gate* decides how much of the
# state to replace, and a *reset gate* decides how much of the old state the
# new candidate gets to see. We follow the convention of Christopher Olah's
# post *Understanding LSTM Networks*.
#
# Each function has a stub that raises `NotImplementedError`; replace the stub
# with your code, then run the `check(...)` cell below it. The checks are
# small and public; the autograder runs hidden tests of its own. The last
# function, the backward pass, is a bonus.

# %%
import numpy as np

# %% tags=["check"]
from rnnkit.checks import make_check

check = make_check("gru", globals())

# %% [markdown]
# ## Notation
#
# | symbol | shape | meaning |
# |---|---|---|
# | $x_t$ | $(D,)$ | input at step $t$ |
# | $h_t$ | $(H,)$ | hidden state after step $t$ |
# | $[h_{t-1}; x_t]$ | $(H + D,)$ | the previous state and the input, stacked (**$h$ first**) |
# | $W_z, W_r, W_h$ | $(H, H + D)$ | weights of the update gate, the reset gate and the candidate (`Wz`, `Wr`, `Wh`) |
# | $b_z, b_r, b_h$ | $(H,)$ | their biases (`bz`, `br`, `bh`) |
#
# The weights and biases travel together in one dict `params` with the keys
# `Wz, bz, Wr, br, Wh, bh`. A sequence is a 2-D array whose row $t$ is step
# $t$: `x` is $(T, D)$ and `h` is $(T, H)$. $\odot$ is the elementwise
# product. As in Part 4, the first $H$ columns of each weight matrix act on
# the state and the last $D$ columns on the input.
# The exact names, arguments and shapes are in the kit's student API,
# [`student-api.md`](student-api.md) (beside this notebook): the contract the grader checks.

# %% [markdown]
# ## Sigmoid, again
#
# Each part is self-contained, so this part needs its own copy of the
# numerically safe sigmoid you wrote in Part 4. Paste your `sigmoid` from the
# LSTM part here. (It was graded there; it is not graded again.)

# %%
def sigmoid(z):
    """Elementwise logistic sigmoid.

    Args:
        z: an array of any shape (or a number).

    Returns:
        sigma(z) = 1 / (1 + exp(-z)), same shape as ``z``, every entry in
        [0, 1]. Finite and exact for entries as large as +-1000. (Computed
        literally, exp(1000) overflows with a RuntimeWarning; 1 / (1 + inf)
        is still exactly 0, so that is graded as right, but the stable form
        needs no warning at all.)
    """
    ### BEGIN SOLUTION
    # HINT: paste the body of your sigmoid from the LSTM part (Part 4).
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # in (0, 1]: cannot overflow
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


# %% [markdown]
# ## The update gate
#
# The update gate decides, for every entry of the state, how much of it to
# replace with new content:
#
# $$ z_t = \sigma\big(W_z [h_{t-1}; x_t] + b_z\big) . $$
#
# In this kit (as in Olah's post *Understanding LSTM Networks*) a **small** $z_t$
# keeps the old state and a large $z_t$ overwrites it; you will see why in
# the step below.

# %%
def update_gate(h_prev, x_t, Wz, bz):
    """The update gate z_t.

    Args:
        h_prev: previous hidden state h_{t-1}, shape (H,).
        x_t: input at this step, shape (D,).
        Wz: update-gate weights, shape (H, H + D); the first H columns act
            on h_prev, the last D on x_t.
        bz: update-gate bias, shape (H,).

    Returns:
        z_t = sigmoid(Wz @ [h_prev; x_t] + bz), shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: stack h_prev and x_t with np.concatenate (h_prev first), then apply the formula above.
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wz @ hx + bz)
    ### END SOLUTION


# %% tags=["check"]
check("update_gate")

# %% [markdown]
# ## The reset gate
#
# The reset gate decides how much of the old state the candidate may look at.
# Near 0, the candidate ignores the past and is built (almost) from the input
# alone, as if the sequence started afresh:
#
# $$ r_t = \sigma\big(W_r [h_{t-1}; x_t] + b_r\big) . $$

# %%
def reset_gate(h_prev, x_t, Wr, br):
    """The reset gate r_t.

    Args:
        h_prev: previous hidden state h_{t-1}, shape (H,).
        x_t: input at this step, shape (D,).
        Wr: reset-gate weights, shape (H, H + D).
        br: reset-gate bias, shape (H,).

    Returns:
        r_t = sigmoid(Wr @ [h_prev; x_t] + br), shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: the same pattern as update_gate, with Wr and br.
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wr @ hx + br)
    ### END SOLUTION


# %% tags=["check"]
check("reset_gate")

# %% [markdown]
# ## The candidate state
#
# The candidate is what the new state would be if the update gate let it in
# completely. It is computed like a vanilla RNN step, except that the old
# state is first filtered by the reset gate — **before** the matrix product:
#
# $$ \tilde{h}_t = \tanh\big(W_h [r_t \odot h_{t-1}; x_t] + b_h\big) . $$
#
# Only the $h$ half of the stacked vector is reset; the input $x_t$ goes in
# unchanged.

# %%
def candidate_hidden(h_prev, x_t, r_t, Wh, bh):
    """The candidate hidden state h~_t.

    Args:
        h_prev: previous hidden state h_{t-1}, shape (H,).
        x_t: input at this step, shape (D,).
        r_t: the reset gate at this step, shape (H,).
        Wh: candidate weights, shape (H, H + D).
        bh: candidate bias, shape (H,).

    Returns:
        h~_t = tanh(Wh @ [r_t * h_prev; x_t] + bh), shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: reset h_prev elementwise first, then stack it with x_t and squash with np.tanh.
    rhx = np.concatenate([r_t * h_prev, x_t])
    return np.tanh(Wh @ rhx + bh)
    ### END SOLUTION


# %% tags=["check"]
check("candidate_hidden")

# %% [markdown]
# ## One step
#
# The new state is a blend, entry by entry, of the old state and the
# candidate, weighted by the update gate:
#
# $$ h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde{h}_t . $$
#
# Where $z_t \approx 0$ the state is copied forward unchanged ($h_t \approx h_{t-1}$);
# where $z_t \approx 1$ it is replaced by the candidate. One gate does the work
# of the LSTM's forget and input gates together: whatever is let in is taken
# out of the old state. And as with the LSTM's cell state, the copy path has
# no weight matrix and no squashing, so gradients survive along it.

# %%
def gru_step_forward(x_t, h_prev, params):
    """One step of a GRU.

    Args:
        x_t: input at this step, shape (D,).
        h_prev: previous hidden state h_{t-1}, shape (H,).
        params: dict with the weights Wz, Wr, Wh, each (H, H + D), and the
            biases bz, br, bh, each (H,).

    Returns:
        h_t = (1 - z_t) * h_prev + z_t * h~_t, shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: compute z_t and r_t, then the candidate (it needs r_t), then blend.
    z = update_gate(h_prev, x_t, params["Wz"], params["bz"])
    r = reset_gate(h_prev, x_t, params["Wr"], params["br"])
    h_tilde = candidate_hidden(h_prev, x_t, r, params["Wh"], params["bh"])
    return (1.0 - z) * h_prev + z * h_tilde
    ### END SOLUTION


# %% tags=["check"]
check("gru_step_forward")

# %% [markdown]
# ## A note for PyTorch users
#
# PyTorch's `nn.GRU` computes a GRU that differs from this one in three ways:
#
# $$ n_t = \tanh\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big), \qquad h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1} . $$
#
# 1. **The role of $z$ is swapped**: in PyTorch a *large* $z_t$ keeps the old
#    state. This is only a relabelling: since $\sigma(-a) = 1 - \sigma(a)$,
#    negating the update gate's weights and biases turns one convention into
#    the other.
# 2. **The reset gate is applied after the matrix product**, to
#    $W_{hn} h_{t-1} + b_{hn}$, not to $h_{t-1}$ before it. This is a genuinely
#    different model: $r_t \odot (W h)$ and $W (r_t \odot h)$ are not equal in
#    general.
# 3. **Input and hidden weights are separate, each with its own bias**
#    ($W_{iz}, b_{iz}$ and $W_{hz}, b_{hz}$, and so on), where we have one
#    matrix acting on $[h_{t-1}; x_t]$ and one bias. For the gates $z$ and $r$
#    the two biases simply add up; for the candidate they do not, because
#    $b_{hn}$ sits inside the reset.
#
# Both conventions appear in the literature and both train well. Just do not
# copy weights from one to the other without translating them.

# %% [markdown]
# ## The whole sequence
#
# Run the step over $t = 0, 1, \dots, T-1$. The argument `h0` is the state
# before the first input ($h_{-1}$); when it is `None`, start from zeros.

# %%
def gru_forward(x, params, h0=None):
    """Forward pass of a GRU over a whole sequence.

    Args:
        x: inputs, shape (T, D); row t is x_t.
        params: dict with Wz, Wr, Wh, each (H, H + D), and bz, br, bh, each
            (H,).
        h0: initial hidden state h_{-1}, shape (H,), or None for zeros.

    Returns:
        h: hidden states, shape (T, H); row t is the state after reading x[t].
    """
    ### BEGIN SOLUTION
    # HINT: loop over t calling gru_step_forward, and start from zeros when h0 is None.
    T = x.shape[0]
    H = params["Wz"].shape[0]
    h = np.zeros((T, H))
    h_prev = np.zeros(H) if h0 is None else h0
    for t in range(T):
        h[t] = gru_step_forward(x[t], h_prev, params)
        h_prev = h[t]
    return h
    ### END SOLUTION


# %% tags=["check"]
check("gru_forward")

# %% [markdown]
# ## The backward pass (bonus)
#
# As in Part 4, we want the gradient of $L = \sum_t dh_t \cdot h_t$ for a
# given `dh` of shape $(T, H)$, and write $\delta v$ for $\partial L / \partial v$.
# Keep from the forward pass, at every step, $h_{t-1}$, $z_t$, $r_t$ and
# $\tilde{h}_t$, and use $\sigma' = \sigma (1 - \sigma)$ and
# $\tanh' = 1 - \tanh^2$.
#
# Going backwards, step $t$ receives $\delta h_t = dh_t + (\text{gradient from step } t+1)$,
# the second term being zero for the last step. The old state $h_{t-1}$ is
# used in **four** places in step $t$, and its gradient is the sum of four
# routes.
#
# **The blend** $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde{h}_t$:
#
# $$ \delta z_t = \delta h_t \odot (\tilde{h}_t - h_{t-1}), \qquad \delta \tilde{h}_t = \delta h_t \odot z_t, \qquad \text{route 1: } \delta h_t \odot (1 - z_t) . $$
#
# Route 1 is the copy path: where $z_t \approx 0$, $h_{t-1}$ gets $\delta h_t$
# back almost unchanged.
#
# **The candidate** $\tilde{h}_t = \tanh(a_h)$ with $a_h = W_h u_t + b_h$ and
# $u_t = [r_t \odot h_{t-1}; x_t]$:
#
# $$ \delta a_h = \delta \tilde{h}_t \odot (1 - \tilde{h}_t^2), \qquad \delta W_h \mathrel{+}= \delta a_h\, u_t^\top, \qquad \delta b_h \mathrel{+}= \delta a_h, \qquad \delta u_t = W_h^\top \delta a_h . $$
#
# Split $\delta u_t$: its last $D$ entries go to $\delta x_t$. Its first $H$
# entries, $g$, are the gradient of $r_t \odot h_{t-1}$, a product, so
# $\delta r_t = g \odot h_{t-1}$ and **route 2** to $h_{t-1}$ is $g \odot r_t$.
#
# **The gates** $z_t = \sigma(a_z)$, $r_t = \sigma(a_r)$, both reading
# $v_t = [h_{t-1}; x_t]$:
#
# $$ \delta a_z = \delta z_t \odot z_t \odot (1 - z_t), \qquad \delta a_r = \delta r_t \odot r_t \odot (1 - r_t), $$
#
# $$ \delta W_z \mathrel{+}= \delta a_z\, v_t^\top, \quad \delta b_z \mathrel{+}= \delta a_z, \quad \delta W_r \mathrel{+}= \delta a_r\, v_t^\top, \quad \delta b_r \mathrel{+}= \delta a_r, \quad \delta v_t = W_z^\top \delta a_z + W_r^\top \delta a_r . $$
#
# The first $H$ entries of $\delta v_t$ are **routes 3 and 4** (through $z_t$
# and $r_t$) to $h_{t-1}$; the last $D$ entries are added to $\delta x_t$.
#
# Adding the four routes gives the gradient that $h_{t-1}$ receives from step
# $t$. Run from $t = T-1$ down to $0$; what step $0$ passes back is `"h0"`,
# returned even when `h0` was `None`. The weight gradients are sums over all
# steps. Check your result against `numerical_gradient` from Part 3.

# %%
def gru_backward(x, params, dh, h0=None):
    """Gradients of L = sum(dh * h), where h = gru_forward(x, params, h0).

    Args:
        x: inputs, shape (T, D).
        params: dict with Wz, Wr, Wh, each (H, H + D), and bz, br, bh, each
            (H,).
        dh: gradient of L with respect to every hidden state, shape (T, H).
        h0: initial hidden state, shape (H,), or None for zeros.

    Returns:
        A dict with the gradient of L with respect to every entry of
        ``params`` (same keys, same shapes) and "x" (T, D) and "h0" (H,).
    """
    ### BEGIN SOLUTION
    # HINT: rerun the forward loop keeping h_{t-1}, z_t, r_t and the candidate, then go from t = T-1 down to 0 adding up the four routes into h_{t-1}; np.outer gives each weight gradient.
    T, D = x.shape
    H = params["Wz"].shape[0]

    # Forward, keeping what the backward pass needs.
    h_prev = np.zeros(H) if h0 is None else h0
    cache = []
    for t in range(T):
        z = update_gate(h_prev, x[t], params["Wz"], params["bz"])
        r = reset_gate(h_prev, x[t], params["Wr"], params["br"])
        h_tilde = candidate_hidden(h_prev, x[t], r, params["Wh"], params["bh"])
        cache.append((h_prev, z, r, h_tilde))
        h_prev = (1.0 - z) * h_prev + z * h_tilde

    # Backward.
    grads = {}
    for g in ("z", "r", "h"):
        grads["W" + g] = np.zeros((H, H + D))
        grads["b" + g] = np.zeros(H)
    dx = np.zeros((T, D))
    dh_next = np.zeros(H)  # dL/dh_t through step t+1
    for t in range(T - 1, -1, -1):
        h_prev, z, r, h_tilde = cache[t]
        dh_t = dh[t] + dh_next
        # the blend
        dz = dh_t * (h_tilde - h_prev)
        dh_tilde = dh_t * z
        dh_prev = dh_t * (1.0 - z)  # route 1
        # the candidate
        da_h = dh_tilde * (1.0 - h_tilde**2)
        u = np.concatenate([r * h_prev, x[t]])
        grads["Wh"] += np.outer(da_h, u)
        grads["bh"] += da_h
        du = params["Wh"].T @ da_h
        dr = du[:H] * h_prev
        dh_prev += du[:H] * r  # route 2
        dx[t] = du[H:]
        # the gates
        v = np.concatenate([h_prev, x[t]])
        da_z = dz * z * (1.0 - z)
        da_r = dr * r * (1.0 - r)
        grads["Wz"] += np.outer(da_z, v)
        grads["bz"] += da_z
        grads["Wr"] += np.outer(da_r, v)
        grads["br"] += da_r
        dv = params["Wz"].T @ da_z + params["Wr"].T @ da_r
        dh_prev += dv[:H]  # routes 3 and 4
        dx[t] += dv[H:]
        dh_next = dh_prev
    grads["x"] = dx
    grads["h0"] = dh_next
    return grads
    ### END SOLUTION


# %% tags=["check"]
check("gru_backward")

# %% [markdown]
# ## What next
#
# You have now built the two gated cells behind most recurrent models in
# practice. Both fight vanishing gradients the same way: a path through time
# made of elementwise, gated copies instead of repeated matrix products.
