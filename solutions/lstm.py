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
# # Part 4 — Long short-term memory (LSTM)
#
# In Part 3 you saw why a vanilla RNN forgets: the gradient that travels from
# step $t$ back to step $k$ is multiplied by one Jacobian
# $\mathrm{diag}(1 - s_j^2)\, W$ per step in between. Over many steps this
# product usually shrinks towards zero (or blows up), so the network cannot
# learn to connect events that are far apart.
#
# A **long short-term memory** network (LSTM) adds a second state, the
# **cell state** $C_t$, and small learned switches — *gates* — that decide what
# to erase from it, what to write into it and what to read out of it. The
# notation follows Christopher Olah's well-known post *Understanding LSTM
# Networks*.
#
# Each function has a stub that raises `NotImplementedError`; replace the stub
# with your code, then run the `check(...)` cell below it. The checks are
# small and public; the autograder runs hidden tests of its own. The last
# function, the backward pass, is a bonus.

# %%
import numpy as np

# %% tags=["check"]
from rnnkit.checks import make_check

check = make_check("lstm", globals())

# %% [markdown]
# ## Notation
#
# | symbol | shape | meaning |
# |---|---|---|
# | $x_t$ | $(D,)$ | input at step $t$ |
# | $h_t$ | $(H,)$ | hidden state after step $t$: what the cell shows the world |
# | $C_t$ | $(H,)$ | cell state after step $t$: the long-term memory (`c` in code) |
# | $[h_{t-1}; x_t]$ | $(H + D,)$ | the previous hidden state and the input, stacked (**$h$ first**) |
# | $W_f, W_i, W_C, W_o$ | $(H, H + D)$ | gate weights (`Wf`, `Wi`, `Wc`, `Wo`) |
# | $b_f, b_i, b_C, b_o$ | $(H,)$ | gate biases (`bf`, `bi`, `bc`, `bo`) |
#
# The weights and biases travel together in one dict `params` with the keys
# `Wf, bf, Wi, bi, Wc, bc, Wo, bo`. A sequence is a 2-D array whose row $t$ is
# step $t$: `x` is $(T, D)$, and `h` and `c` are $(T, H)$. $\odot$ is the
# elementwise product (`*` in NumPy).
# The exact names, arguments and shapes are in the kit's student API,
# [`student-api.md`](student-api.md) (beside this notebook): the contract the grader checks.
#
# Every gate reads the same stacked vector $[h_{t-1}; x_t]$. Multiplying it by
# a weight matrix is the same as splitting the matrix into its first $H$
# columns (which act on $h_{t-1}$) and its last $D$ columns (which act on $x_t$):
#
# $$ W [h_{t-1}; x_t] = W_{:, :H}\, h_{t-1} + W_{:, H:}\, x_t . $$
#
# The order matters: stacking $[x_t; h_{t-1}]$ instead would feed each half
# to the wrong columns.
#
# ## The idea: a conveyor belt
#
# The cell state runs straight along the whole sequence like a conveyor belt.
# At each step the LSTM only makes two *elementwise* changes to it: it scales
# it by the forget gate $f_t$ and adds new information,
#
# $$ C_t = f_t \odot C_{t-1} + i_t \odot \tilde{C}_t . $$
#
# There is no weight matrix and no squashing on this path. Along it,
# $\partial C_t / \partial C_{t-1} = \mathrm{diag}(f_t)$, so when the forget
# gate is open ($f_t \approx 1$) the gradient flows back through many steps
# almost unchanged — exactly what the vanilla RNN could not do.

# %% [markdown]
# ## Sigmoid
#
# A gate is a vector of numbers between 0 and 1 that multiplies another vector
# elementwise: 0 means "let nothing through", 1 means "let everything
# through". The logistic sigmoid produces such numbers:
#
# $$ \sigma(z) = \frac{1}{1 + e^{-z}}, \qquad \sigma(0) = \tfrac12, \qquad \sigma(-z) = 1 - \sigma(z) . $$
#
# Computed literally, $\sigma(-1000)$ needs $e^{1000}$, which overflows to
# `inf` (with a `RuntimeWarning`). For $z < 0$, multiply the top and bottom
# by $e^{z}$:
#
# $$ \sigma(z) = \frac{e^{z}}{1 + e^{z}} \quad (z < 0) . $$
#
# Both forms then need only $e^{-|z|}$, which lies in $(0, 1]$ and never
# overflows. (`np.where` evaluates *both* of its branches on every entry, so
# compute $e^{-|z|}$ first and build both branches from it.)

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
        below needs no warning at all.)
    """
    ### BEGIN SOLUTION
    # HINT: for negative z use the form exp(z) / (1 + exp(z)), so that np.exp only ever sees -|z|.
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # in (0, 1]: cannot overflow
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


# %% tags=["check"]
check("sigmoid")

# %% [markdown]
# ## The forget gate
#
# The first decision is what to erase from the cell state. The forget gate
# looks at the previous hidden state and the current input and outputs, for
# every entry of $C_{t-1}$, a number between 0 (forget it completely) and 1
# (keep it completely):
#
# $$ f_t = \sigma\big(W_f [h_{t-1}; x_t] + b_f\big) . $$
#
# A model reading source code, say, might hold "we are inside a string" in one
# entry of the cell, and let the forget gate clear it at the closing quote.

# %%
def forget_gate(h_prev, x_t, Wf, bf):
    """The forget gate f_t.

    Args:
        h_prev: previous hidden state h_{t-1}, shape (H,).
        x_t: input at this step, shape (D,).
        Wf: forget-gate weights, shape (H, H + D); the first H columns act
            on h_prev, the last D on x_t.
        bf: forget-gate bias, shape (H,).

    Returns:
        f_t = sigmoid(Wf @ [h_prev; x_t] + bf), shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: stack h_prev and x_t into one vector with np.concatenate (h_prev first), then apply the formula above.
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wf @ hx + bf)
    ### END SOLUTION


# %% tags=["check"]
check("forget_gate")

# %% [markdown]
# ## The input gate
#
# Next, what to write. The input gate decides *how much* of the new
# information each entry of the cell state takes in:
#
# $$ i_t = \sigma\big(W_i [h_{t-1}; x_t] + b_i\big) . $$

# %%
def input_gate(h_prev, x_t, Wi, bi):
    """The input gate i_t.

    Args:
        h_prev: previous hidden state h_{t-1}, shape (H,).
        x_t: input at this step, shape (D,).
        Wi: input-gate weights, shape (H, H + D).
        bi: input-gate bias, shape (H,).

    Returns:
        i_t = sigmoid(Wi @ [h_prev; x_t] + bi), shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: the same pattern as forget_gate, with Wi and bi.
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wi @ hx + bi)
    ### END SOLUTION


# %% tags=["check"]
check("input_gate")

# %% [markdown]
# ## The candidate cell state
#
# *What* would be written is a vector of candidate values. Unlike a gate it
# is squashed with $\tanh$, into $(-1, 1)$, so that it can raise or lower each
# entry of the cell state:
#
# $$ \tilde{C}_t = \tanh\big(W_C [h_{t-1}; x_t] + b_C\big) . $$
#
# The cell state receives $i_t \odot \tilde{C}_t$: the candidate, filtered by
# the input gate.

# %%
def candidate_cell(h_prev, x_t, Wc, bc):
    """The candidate cell state C~_t.

    Args:
        h_prev: previous hidden state h_{t-1}, shape (H,).
        x_t: input at this step, shape (D,).
        Wc: candidate weights, shape (H, H + D).
        bc: candidate bias, shape (H,).

    Returns:
        C~_t = tanh(Wc @ [h_prev; x_t] + bc), shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: like a gate, but squashed with np.tanh instead of sigmoid.
    hx = np.concatenate([h_prev, x_t])
    return np.tanh(Wc @ hx + bc)
    ### END SOLUTION


# %% tags=["check"]
check("candidate_cell")

# %% [markdown]
# ## The output gate
#
# Finally, what to read out. The hidden state $h_t$ is a filtered view of the
# cell state, and the output gate is the filter:
#
# $$ o_t = \sigma\big(W_o [h_{t-1}; x_t] + b_o\big) . $$

# %%
def output_gate(h_prev, x_t, Wo, bo):
    """The output gate o_t.

    Args:
        h_prev: previous hidden state h_{t-1}, shape (H,).
        x_t: input at this step, shape (D,).
        Wo: output-gate weights, shape (H, H + D).
        bo: output-gate bias, shape (H,).

    Returns:
        o_t = sigmoid(Wo @ [h_prev; x_t] + bo), shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: the same pattern as forget_gate, with Wo and bo.
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wo @ hx + bo)
    ### END SOLUTION


# %% tags=["check"]
check("output_gate")

# %% [markdown]
# ## One step
#
# Put the pieces together. With the four vectors $f_t, i_t, \tilde{C}_t, o_t$
# computed from the same $[h_{t-1}; x_t]$, one step updates the cell state
# and then reads the new hidden state out of it:
#
# $$ C_t = f_t \odot C_{t-1} + i_t \odot \tilde{C}_t , \qquad h_t = o_t \odot \tanh(C_t) . $$
#
# The first term keeps (part of) the old memory, the second adds (part of) the
# new candidate. The $\tanh$ keeps $h_t$ in $(-1, 1)$ however large $C_t$
# grows; $C_t$ itself is not squashed.

# %%
def lstm_step_forward(x_t, h_prev, c_prev, params):
    """One step of an LSTM.

    Args:
        x_t: input at this step, shape (D,).
        h_prev: previous hidden state h_{t-1}, shape (H,).
        c_prev: previous cell state C_{t-1}, shape (H,).
        params: dict with the weights Wf, Wi, Wc, Wo, each (H, H + D), and
            the biases bf, bi, bc, bo, each (H,).

    Returns:
        (h_t, c_t): the new hidden state and cell state, each shape (H,),
        with c_t = f_t * c_prev + i_t * C~_t and h_t = o_t * tanh(c_t).
    """
    ### BEGIN SOLUTION
    # HINT: compute the four gate vectors with your functions above, then c_t, then h_t; * is elementwise.
    f = forget_gate(h_prev, x_t, params["Wf"], params["bf"])
    i = input_gate(h_prev, x_t, params["Wi"], params["bi"])
    c_tilde = candidate_cell(h_prev, x_t, params["Wc"], params["bc"])
    o = output_gate(h_prev, x_t, params["Wo"], params["bo"])
    c_t = f * c_prev + i * c_tilde
    h_t = o * np.tanh(c_t)
    return h_t, c_t
    ### END SOLUTION


# %% tags=["check"]
check("lstm_step_forward")

# %% [markdown]
# ## The whole sequence
#
# As for the vanilla RNN, run the step over $t = 0, 1, \dots, T-1$, feeding
# both new states into the next step. The arguments `h0` and `c0` are the
# states *before* the first input ($h_{-1}$ and $C_{-1}$); when either is
# `None`, start it from zeros. Return all hidden states and all cell states.

# %%
def lstm_forward(x, params, h0=None, c0=None):
    """Forward pass of an LSTM over a whole sequence.

    Args:
        x: inputs, shape (T, D); row t is x_t.
        params: dict with Wf, Wi, Wc, Wo, each (H, H + D), and bf, bi, bc,
            bo, each (H,).
        h0: initial hidden state h_{-1}, shape (H,), or None for zeros.
        c0: initial cell state C_{-1}, shape (H,), or None for zeros.

    Returns:
        (h, c): hidden states and cell states, each shape (T, H); row t is
        the state after reading x[t].
    """
    ### BEGIN SOLUTION
    # HINT: like rnn_forward: loop over t calling lstm_step_forward, and start from zeros when h0 or c0 is None.
    T = x.shape[0]
    H = params["Wf"].shape[0]
    h = np.zeros((T, H))
    c = np.zeros((T, H))
    h_prev = np.zeros(H) if h0 is None else h0
    c_prev = np.zeros(H) if c0 is None else c0
    for t in range(T):
        h[t], c[t] = lstm_step_forward(x[t], h_prev, c_prev, params)
        h_prev, c_prev = h[t], c[t]
    return h, c
    ### END SOLUTION


# %% tags=["check"]
check("lstm_forward")

# %% [markdown]
# ## The conveyor belt, seen
#
# In Part 3 you plotted how the vanilla RNN's $\partial s_t / \partial s_k$
# shrinks (or blows up) geometrically with the distance $t - k$. Do the same
# for the LSTM's cell path. Along the conveyor belt each step contributes
# $\partial C_j / \partial C_{j-1} = \mathrm{diag}(f_j)$, so
#
# $$ \frac{\partial C_t}{\partial C_k}\bigg|_{\text{cell path}} = \mathrm{diag}(f_t) \, \mathrm{diag}(f_{t-1}) \cdots \mathrm{diag}(f_{k+1}) = \mathrm{diag}\Big(\prod_{j=k+1}^{t} f_j\Big) , $$
#
# whose spectral norm is the largest entry of the elementwise product
# $\prod_j f_j$. (The full derivative has other paths too, through $h$ and
# the gates; the cell path is the one with no weight matrix on it.)
#
# The cell below runs your `lstm_forward` on random weights for $T = 60$
# steps, recomputes every forget gate with your `forget_gate`, and plots that
# norm against $t - k$ for several forget-gate biases $b_f$. With
# $b_f = -2$ the gate is mostly closed ($f \approx 0.1$) and the memory is
# gone within a few steps. With $b_f = 0$, $f \approx 0.5$: still a
# vanishing product. With $b_f = 5$, $f \approx 0.99$ and the gradient
# crosses 60 steps nearly intact. A trained LSTM does not pick one bias for
# all: its gates open and close with the input, keeping $f_j \approx 1$
# exactly for what is worth remembering. (This is also why LSTMs are often
# initialised with $b_f = 1$ or more.)
#
# Run it after `forget_gate` and `lstm_forward` pass their checks (the
# autograder skips this cell). To try other biases, call
# `cell_path_gradients(forget_biases=(0.5, 1.0))` in a new cell.

# %% tags=["plot"]
from rnnkit.plots import illustration


@illustration
def cell_path_gradients(forget_biases=(-2.0, 0.0, 2.0, 5.0), H=32, D=8, T=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, D))
    weights = {name: rng.standard_normal((H, H + D)) / np.sqrt(H + D) for name in ("Wf", "Wi", "Wc", "Wo")}
    distances = np.arange(T)
    curves, means = {}, {}
    for b in forget_biases:
        params = dict(weights, bf=np.full(H, b), bi=np.zeros(H), bc=np.zeros(H), bo=np.zeros(H))
        h, _ = lstm_forward(x, params)
        h_before = np.vstack([np.zeros(H), h[:-1]])  # h_{t-1} for every t
        f = np.array([forget_gate(h_before[t], x[t], params["Wf"], params["bf"]) for t in range(T)])
        # Row d: f_t * f_{t-1} * ... * f_{t-d+1} for the last step t, elementwise (row 0: no factor, ones).
        products = np.vstack([np.ones(H), np.cumprod(f[::-1], axis=0)[:-1]])
        curves[b] = np.abs(products).max(axis=1)  # spectral norm of a diagonal matrix
        means[b] = f.mean()

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for b, norms in curves.items():
        ax.semilogy(distances, np.maximum(norms, 1e-16), label=f"b_f = {b:g} (mean f = {means[b]:.2f})")
    ax.set_xlabel("distance t - k (steps back in time)")
    ax.set_ylim(1e-16, 10)
    ax.set_ylabel("norm of the cell path dC_t / dC_k")
    ax.set_title("The LSTM's conveyor belt: gradient along the cell state")
    ax.legend()
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## The backward pass (bonus)
#
# We want the gradient of the scalar $L = \sum_{t} dh_t \cdot h_t$, where
# `dh` (shape $(T, H)$) is given: it stands for whatever gradient a loss on
# top of the LSTM sends into each hidden state. Write $\delta v$ for
# $\partial L / \partial v$, a vector shaped like $v$.
#
# **Local derivatives.** Both squashing functions have derivatives that can be
# written with their outputs, so keep the outputs from the forward pass:
#
# $$ \sigma'(a) = \sigma(a)\,\big(1 - \sigma(a)\big), \qquad \tanh'(a) = 1 - \tanh^2(a) . $$
#
# **What reaches step $t$.** $h_t$ is used twice: in $L$ and as the input of
# step $t+1$; $C_t$ is used by $h_t$ and by step $t+1$. Going backwards, step
# $t$ therefore receives
#
# $$ \delta h_t = dh_t + (\text{gradient from step } t+1), \qquad \delta C_t = (\text{gradient from step } t+1) + \delta h_t \odot o_t \odot \big(1 - \tanh^2(C_t)\big) , $$
#
# where both "gradients from step $t+1$" are zero for the last step.
#
# **Through the cell update** $C_t = f_t \odot C_{t-1} + i_t \odot \tilde{C}_t$
# and $h_t = o_t \odot \tanh(C_t)$, everything is elementwise:
#
# $$ \delta o_t = \delta h_t \odot \tanh(C_t), \quad \delta f_t = \delta C_t \odot C_{t-1}, \quad \delta i_t = \delta C_t \odot \tilde{C}_t, \quad \delta \tilde{C}_t = \delta C_t \odot i_t . $$
#
# The old cell state gets $\delta C_t \odot f_t$: this is the gradient from
# step $t$ that $C_{t-1}$ receives. It flows *through the forget gate* and
# nothing else — the conveyor belt again.
#
# **Through the squashing** to the pre-activations $a_g = W_g [h_{t-1}; x_t] + b_g$:
#
# $$ \delta a_f = \delta f_t \odot f_t \odot (1 - f_t), \quad \delta a_i = \delta i_t \odot i_t \odot (1 - i_t), \quad \delta a_o = \delta o_t \odot o_t \odot (1 - o_t), \quad \delta a_C = \delta \tilde{C}_t \odot (1 - \tilde{C}_t^2) . $$
#
# **Weights and biases.** The same weights are used at every step, so their
# gradients are *sums* over $t$. For each gate $g \in \{f, i, C, o\}$:
#
# $$ \delta W_g \mathrel{+}= \delta a_g\, [h_{t-1}; x_t]^\top \ \text{(an outer product)}, \qquad \delta b_g \mathrel{+}= \delta a_g . $$
#
# **The stacked input.** All four gates read $[h_{t-1}; x_t]$, so
#
# $$ \delta [h_{t-1}; x_t] = \sum_{g} W_g^\top \delta a_g , $$
#
# a vector of length $H + D$. Split it: the first $H$ entries are the gradient
# that $h_{t-1}$ receives from step $t$ (added to $dh_{t-1}$ at the next
# iteration), the last $D$ entries are $\delta x_t$.
#
# Run this from $t = T-1$ down to $0$. What is passed back from step $0$ is the
# gradient with respect to the initial states: $\delta h_{-1}$ (`"h0"`) and
# $\delta C_{-1}$ (`"c0"`) — returned even when `h0` and `c0` were `None`,
# as the gradient at the zero state. Check your result against
# `numerical_gradient` from Part 3.

# %%
def lstm_backward(x, params, dh, h0=None, c0=None):
    """Gradients of L = sum(dh * h), where h = lstm_forward(x, params, h0, c0)[0].

    Args:
        x: inputs, shape (T, D).
        params: dict with Wf, Wi, Wc, Wo, each (H, H + D), and bf, bi, bc,
            bo, each (H,).
        dh: gradient of L with respect to every hidden state, shape (T, H).
        h0: initial hidden state, shape (H,), or None for zeros.
        c0: initial cell state, shape (H,), or None for zeros.

    Returns:
        A dict with the gradient of L with respect to every entry of
        ``params`` (same keys, same shapes) and "x" (T, D), "h0" (H,) and
        "c0" (H,).
    """
    ### BEGIN SOLUTION
    # HINT: rerun the forward loop keeping every gate and state, then go from t = T-1 down to 0, carrying the gradients of h_{t-1} and c_{t-1} to the next iteration; np.outer gives each weight gradient.
    T, D = x.shape
    H = params["Wf"].shape[0]
    gates = ("f", "i", "c", "o")

    # Forward, keeping what the backward pass needs.
    h_prev = np.zeros(H) if h0 is None else h0
    c_prev = np.zeros(H) if c0 is None else c0
    cache = []
    for t in range(T):
        hx = np.concatenate([h_prev, x[t]])
        f = forget_gate(h_prev, x[t], params["Wf"], params["bf"])
        i = input_gate(h_prev, x[t], params["Wi"], params["bi"])
        c_tilde = candidate_cell(h_prev, x[t], params["Wc"], params["bc"])
        o = output_gate(h_prev, x[t], params["Wo"], params["bo"])
        c_t = f * c_prev + i * c_tilde
        tanh_c = np.tanh(c_t)
        cache.append((hx, c_prev, f, i, c_tilde, o, tanh_c))
        h_prev, c_prev = o * tanh_c, c_t

    # Backward.
    grads = {}
    for g in gates:
        grads["W" + g] = np.zeros((H, H + D))
        grads["b" + g] = np.zeros(H)
    dx = np.zeros((T, D))
    dh_next = np.zeros(H)  # dL/dh_t through step t+1
    dc_next = np.zeros(H)  # dL/dC_t through step t+1
    for t in range(T - 1, -1, -1):
        hx, c_prev, f, i, c_tilde, o, tanh_c = cache[t]
        dh_t = dh[t] + dh_next
        dc_t = dc_next + dh_t * o * (1.0 - tanh_c**2)
        da = {
            "f": (dc_t * c_prev) * f * (1.0 - f),
            "i": (dc_t * c_tilde) * i * (1.0 - i),
            "c": (dc_t * i) * (1.0 - c_tilde**2),
            "o": (dh_t * tanh_c) * o * (1.0 - o),
        }
        dhx = np.zeros(H + D)
        for g in gates:
            grads["W" + g] += np.outer(da[g], hx)
            grads["b" + g] += da[g]
            dhx += params["W" + g].T @ da[g]
        dh_next = dhx[:H]
        dx[t] = dhx[H:]
        dc_next = dc_t * f
    grads["x"] = dx
    grads["h0"] = dh_next
    grads["c0"] = dc_next
    return grads
    ### END SOLUTION


# %% tags=["check"]
check("lstm_backward")

# %% [markdown]
# ## What next
#
# You have built an LSTM from its gates and, if you did the bonus, pushed
# gradients back through it. Part 5 builds the gated recurrent unit (GRU), a
# lighter cousin with two gates and no separate cell state.
