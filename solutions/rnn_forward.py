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
# # Part 1 — What are RNNs? The forward pass
#
# A feed-forward network treats every input on its own. Language, music and
# sensor readings come as *sequences*, where what came before changes what
# comes next. A **recurrent neural network** (RNN) carries a memory — the
# hidden state $s_t$ — from one step to the next, and applies the *same*
# weights at every step.
#
# In this part you will write the forward pass of a vanilla RNN and its loss.
# Each function has a stub that raises `NotImplementedError`; replace the stub
# with your code, then run the `check(...)` cell below it. The checks are
# small and public; the autograder runs hidden tests of its own.

# %%
import numpy as np

# %% tags=["check"]
from rnnkit.checks import make_check

check = make_check("rnn_forward", globals())

# %% [markdown]
# ## Notation
#
# | symbol | shape | meaning |
# |---|---|---|
# | $x_t$ | $(D,)$ | input at step $t$ (for words: a one-hot vector over the vocabulary) |
# | $s_t$ | $(H,)$ | hidden state after step $t$: the network's memory |
# | $o_t$ | $(K,)$ | output at step $t$: a probability distribution over $K$ classes |
# | $U$ | $(H, D)$ | input-to-hidden weights |
# | $W$ | $(H, H)$ | hidden-to-hidden weights |
# | $V$ | $(K, H)$ | hidden-to-output weights |
#
# A whole sequence is a 2-D array whose row $t$ is step $t$: `x` has shape
# $(T, D)$, `s` has shape $(T, H)$ and `o` has shape $(T, K)$. We work with one
# sequence at a time, with no batch axis, and no biases (as in Denny Britz's
# WildML *Recurrent Neural Networks Tutorial*, whose notation this part follows).
# Every function's exact name, arguments and shapes are in the kit's student API,
# [`student-api.md`](student-api.md) (beside this notebook): the contract the grader checks.
#
# ## Unrolling
#
# The loop of an RNN is easiest to understand *unrolled* in time: one copy of
# the cell per step, every copy sharing $U$, $W$ and $V$.
#
# ```
#        o_0          o_1          o_2
#         ^            ^            ^
#         | V          | V          | V
#  s_-1 -> s_0 --W--> s_1 --W--> s_2 --> ...
#         ^            ^            ^
#         | U          | U          | U
#        x_0          x_1          x_2
# ```
#
# Each step computes
#
# $$ s_t = \tanh(U x_t + W s_{t-1}), \qquad o_t = \mathrm{softmax}(V s_t), $$
#
# starting from an initial state $s_{-1}$ (zeros unless given). Because the same
# weights are used at every step, the network can read sequences of any length,
# and what it learns at one position applies at every other.

# %% [markdown]
# ## Softmax
#
# The output layer turns a vector of scores (logits) $z \in \mathbb{R}^K$ into
# probabilities:
#
# $$ \mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_{j=1}^{K} e^{z_j}} . $$
#
# The denominator sums over **all** $K$ classes, so the outputs are positive and
# add up to 1.
#
# Computed literally, $e^{1000}$ overflows to `inf` and the result is `nan`.
# Softmax does not change when the same constant is subtracted from every
# logit ($e^{z_i - c} / \sum_j e^{z_j - c}$ cancels $e^{-c}$), so subtract the
# largest logit first: every exponent is then $\le 0$ and the largest term is
# exactly 1. For a 2-D array, do this per row: each row is its own
# distribution, and the maximum must be taken over that row only.

# %%
def softmax(z):
    """Softmax over the last axis.

    Args:
        z: logits, shape (K,) or (T, K).

    Returns:
        Probabilities of the same shape as ``z``; each row sums to 1.
        Finite and exact for logits as large as +-1000.
    """
    ### BEGIN SOLUTION
    # HINT: subtract each row's maximum (keepdims=True) before np.exp.
    shifted = z - np.max(z, axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=-1, keepdims=True)
    ### END SOLUTION


# %% tags=["check"]
check("softmax")

# %% [markdown]
# ## One step
#
# A single step reads the input $x_t$ and the previous state $s_{t-1}$:
#
# $$ s_t = \tanh(U x_t + W s_{t-1}) . $$
#
# $U x_t$ is what the input says, $W s_{t-1}$ is what the memory says; $\tanh$
# squashes their sum into $(-1, 1)$.

# %%
def rnn_step_forward(x_t, s_prev, U, W):
    """One step of a vanilla RNN.

    Args:
        x_t: input at this step, shape (D,).
        s_prev: previous hidden state s_{t-1}, shape (H,).
        U: input-to-hidden weights, shape (H, D).
        W: hidden-to-hidden weights, shape (H, H).

    Returns:
        s_t = tanh(U @ x_t + W @ s_prev), shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: one line: tanh of (U times x_t) plus (W times s_prev).
    return np.tanh(U @ x_t + W @ s_prev)
    ### END SOLUTION


# %% tags=["check"]
check("rnn_step_forward")

# %% [markdown]
# ## The whole sequence
#
# Run the step over $t = 0, 1, \dots, T-1$, feeding each new state into the
# next step, and read out a distribution at every step:
#
# $$ s_t = \tanh(U x_t + W s_{t-1}), \quad o_t = \mathrm{softmax}(V s_t), \quad s_{-1} = s_0^{\text{init}} . $$
#
# The argument `s0` is the state *before* the first input (the $s_{-1}$ above);
# when it is `None`, start from zeros. Return both the states and the outputs.

# %%
def rnn_forward(x, U, W, V, s0=None):
    """Forward pass of a vanilla RNN over a whole sequence.

    Args:
        x: inputs, shape (T, D); row t is x_t.
        U: input-to-hidden weights, shape (H, D).
        W: hidden-to-hidden weights, shape (H, H).
        V: hidden-to-output weights, shape (K, H).
        s0: initial state s_{-1}, shape (H,), or None for zeros.

    Returns:
        (s, o): hidden states, shape (T, H), and output distributions,
        shape (T, K), with s[t] = tanh(U @ x[t] + W @ s[t-1]) and
        o[t] = softmax(V @ s[t]).
    """
    ### BEGIN SOLUTION
    # HINT: loop over t, calling rnn_step_forward; start from zeros when s0 is None.
    T = x.shape[0]
    H = W.shape[0]
    s = np.zeros((T, H))
    s_prev = np.zeros(H) if s0 is None else s0
    for t in range(T):
        s[t] = rnn_step_forward(x[t], s_prev, U, W)
        s_prev = s[t]
    o = softmax(s @ V.T)
    return s, o
    ### END SOLUTION


# %% tags=["check"]
check("rnn_forward")

# %% [markdown]
# ## The loss
#
# At each step the target $y_t$ is the index of the correct class (for a
# language model: the next word). The cross-entropy loss at step $t$ is the
# negative log-probability the network gave to the right answer,
#
# $$ E_t = -\log o_{t, y_t} , $$
#
# and the loss of the sequence is the **sum** over time,
#
# $$ E = \sum_{t=0}^{T-1} E_t = -\sum_{t} \log o_{t, y_t} . $$
#
# (Not the mean: dividing by $T$ would also divide every gradient in Part 3
# by $T$.) A network that guesses uniformly has $E = T \log K$: a useful number
# to compare your first training runs against.

# %%
def cross_entropy_loss(o, y):
    """Cross-entropy loss of a sequence, summed over time.

    Args:
        o: output distributions, shape (T, K).
        y: target class indices, shape (T,), integers in [0, K).

    Returns:
        E = -sum_t log o[t, y[t]], a Python float.
    """
    ### BEGIN SOLUTION
    # HINT: pick o[t, y[t]] for every t with fancy indexing, then sum the logs.
    T = len(y)
    return float(-np.sum(np.log(o[np.arange(T), y])))
    ### END SOLUTION


# %% tags=["check"]
check("cross_entropy_loss")

# %% [markdown]
# ## What next
#
# You can now run an RNN over a sequence and score it. Part 2 derives the
# gradient of softmax and the loss; Part 3 uses it to train $U$, $W$ and $V$
# with backpropagation through time.
