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
# # Part 3 — Backpropagation through time
#
# An RNN learns by gradient descent: nudge $U$, $W$ and $V$ against the
# gradient of the loss. Unrolled in time, an RNN is just a deep feed-forward
# network whose layers all share the same weights, so ordinary
# backpropagation applies. Run on the unrolled network it has its own name:
# **backpropagation through time** (BPTT).
#
# In this part you will derive and write the gradients of $U$, $W$ and $V$,
# see why they can vanish or explode over long sequences, tame explosions with
# gradient clipping, and build the tool that tells you whether any gradient
# code is right: a numerical gradient check. As before, replace each stub with
# your code and run the `check(...)` cell below it.

# %%
import numpy as np

# %% tags=["check"]
from rnnkit.checks import make_check

check = make_check("bptt", globals())

# %% [markdown]
# ## From Part 1
#
# Paste your `softmax` and `rnn_forward` (and `rnn_step_forward` if you use
# it) from Part 1 here. They are not graded again in this part, but
# `rnn_backward` needs the forward pass: the gradients are computed from the
# states $s_t$ and outputs $o_t$ it returns.

# %%
def softmax(z):
    """Softmax over the last axis (from Part 1).

    Args:
        z: logits, shape (K,) or (T, K).

    Returns:
        Probabilities of the same shape as ``z``; each row sums to 1.
    """
    ### BEGIN SOLUTION
    # HINT: paste your softmax from Part 1.
    shifted = z - np.max(z, axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=-1, keepdims=True)
    ### END SOLUTION


def rnn_step_forward(x_t, s_prev, U, W):
    """One step of a vanilla RNN (from Part 1).

    Args:
        x_t: input at this step, shape (D,).
        s_prev: previous hidden state s_{t-1}, shape (H,).
        U: input-to-hidden weights, shape (H, D).
        W: hidden-to-hidden weights, shape (H, H).

    Returns:
        s_t = tanh(U @ x_t + W @ s_prev), shape (H,).
    """
    ### BEGIN SOLUTION
    # HINT: paste your rnn_step_forward from Part 1 (not needed if your rnn_forward does not call it).
    return np.tanh(U @ x_t + W @ s_prev)
    ### END SOLUTION


def rnn_forward(x, U, W, V, s0=None):
    """Forward pass of a vanilla RNN over a whole sequence (from Part 1).

    Args:
        x: inputs, shape (T, D); row t is x_t.
        U: input-to-hidden weights, shape (H, D).
        W: hidden-to-hidden weights, shape (H, H).
        V: hidden-to-output weights, shape (K, H).
        s0: initial state s_{-1}, shape (H,), or None for zeros.

    Returns:
        (s, o): hidden states, shape (T, H), and output distributions,
        shape (T, K).
    """
    ### BEGIN SOLUTION
    # HINT: paste your rnn_forward from Part 1.
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


# %% [markdown]
# ## The loss, and the gradient of $V$
#
# Name the pieces of one step:
#
# $$ a_t = U x_t + W s_{t-1}, \qquad s_t = \tanh(a_t), \qquad z_t = V s_t, \qquad o_t = \mathrm{softmax}(z_t), $$
#
# with $s_{-1}$ = `s0` (zeros when `s0` is `None`). The loss is a sum over
# time, $E = \sum_t E_t$ with $E_t = -\log o_{t, y_t}$, so its gradient is the
# sum of the gradients of the $E_t$.
#
# From Part 2, the error at the logits of step $t$ is
#
# $$ e_t = \frac{\partial E_t}{\partial z_t} = o_t - \mathbf{1}_{y_t} , $$
#
# where $\mathbf{1}_{y_t}$ is the one-hot vector of the target (we will also
# write $o_t - y_t$, reading $y_t$ as that one-hot vector). Since
# $z_{t,i} = \sum_j V_{ij} s_{t,j}$, we get $\partial E_t / \partial V_{ij} = e_{t,i} \, s_{t,j}$:
# an **outer product**, of shape $(K, H)$ like $V$ itself,
#
# $$ \frac{\partial E_t}{\partial V} = (o_t - y_t) \, s_t^\top ,
#    \qquad \frac{\partial E}{\partial V} = \sum_{t} (o_t - y_t) \, s_t^\top . $$
#
# $V$ is easy because $E_t$ sees it only once, at step $t$. $W$ and $U$ are
# harder: $s_t$ depends on $W$ directly, but also through $s_{t-1}$, which
# depends on $W$ too, and so on back to the start of the sequence.

# %% [markdown]
# ## One step back: the state Jacobian
#
# How does $s_t$ change when $s_{t-1}$ changes? With $a_t = U x_t + W s_{t-1}$
# and $\tanh'(a) = 1 - \tanh^2(a)$,
#
# $$ \frac{\partial s_t}{\partial s_{t-1}} = \mathrm{diag}\big(\tanh'(a_t)\big) \, W = \mathrm{diag}(1 - s_t^2) \, W , $$
#
# an $(H, H)$ matrix: entry $(i, j)$ is $(1 - s_{t,i}^2) \, W_{ij}$. Note that
# the derivative of $\tanh$ is evaluated at *this* step, so it is written with
# $s_t$ (the output of the step), not with $s_{t-1}$.

# %%
def state_jacobian(s_t, W):
    """Jacobian of one RNN step with respect to the previous state.

    Args:
        s_t: the state *after* the step, s_t = tanh(U @ x_t + W @ s_{t-1}),
            shape (H,).
        W: hidden-to-hidden weights, shape (H, H).

    Returns:
        ds_t/ds_{t-1} = diag(1 - s_t**2) @ W, shape (H, H).
    """
    ### BEGIN SOLUTION
    # HINT: tanh'(a) = 1 - tanh(a)**2, and s_t already is tanh(a); multiplying by a diagonal matrix on the left scales the rows.
    return (1.0 - s_t**2)[:, None] * W
    ### END SOLUTION


# %% tags=["check"]
check("state_jacobian")

# %% [markdown]
# ## Many steps back: a product of Jacobians
#
# By the chain rule, the way $s_t$ depends on an earlier state $s_k$
# ($k \le t$) is the product of the one-step Jacobians in between, latest first:
#
# $$ \frac{\partial s_t}{\partial s_k} = \prod_{j=k+1}^{t} \frac{\partial s_j}{\partial s_{j-1}}
#    = J_t \, J_{t-1} \cdots J_{k+1}, \qquad J_j = \mathrm{diag}(1 - s_j^2) \, W , $$
#
# and the identity matrix when $t = k$ (no steps in between). Matrix products
# do not commute, so the order matters: $J_t$ is on the left.
#
# This is what $W$ and $U$ need. $W$ is used at every step $k \le t$, and each
# use adds its own term to the gradient (the derivative of a shared weight is
# the sum over its uses). Step $k$ uses $W$ in $a_k = U x_k + W s_{k-1}$, so
#
# $$ \frac{\partial E_t}{\partial W} = \sum_{k=0}^{t} \delta^{(t)}_k \, s_{k-1}^\top ,
#    \qquad \frac{\partial E_t}{\partial U} = \sum_{k=0}^{t} \delta^{(t)}_k \, x_k^\top ,
#    \qquad \delta^{(t)}_k = \frac{\partial E_t}{\partial a_k}
#    = \mathrm{diag}(1 - s_k^2) \Big(\frac{\partial s_t}{\partial s_k}\Big)^{\!\top} V^\top (o_t - y_t) , $$
#
# with $s_{-1}$ = `s0`. Each term is again an outer product: $(H, H)$ for $W$,
# $(H, D)$ for $U$. The vector $\delta^{(t)}_k$ is "how much $E_t$ cares about
# the pre-activation of step $k$".

# %%
def jacobian_product(s, W, t, k):
    """How the state s_t depends on an earlier state s_k.

    Args:
        s: hidden states of a forward pass, shape (T, H); row j is s_j.
        W: hidden-to-hidden weights, shape (H, H).
        t: the later step, an int with k <= t < T.
        k: the earlier step, an int with 0 <= k <= t.

    Returns:
        ds_t/ds_k = J_t @ J_{t-1} @ ... @ J_{k+1}, shape (H, H), where
        J_j = state_jacobian(s[j], W); the (H, H) identity when t == k.
    """
    ### BEGIN SOLUTION
    # HINT: start from np.eye(H) and multiply on the right by J_t, then J_{t-1}, ..., down to J_{k+1}.
    H = W.shape[0]
    product = np.eye(H)
    for j in range(t, k, -1):
        product = product @ state_jacobian(s[j], W)
    return product
    ### END SOLUTION


# %% tags=["check"]
check("jacobian_product")

# %% [markdown]
# ## Backpropagation through time: the recursion
#
# Building $\partial s_t / \partial s_k$ for every pair $(t, k)$ costs a
# matrix-matrix product per step. There is no need: we only ever need the
# Jacobian's transpose *times a vector*. Walk back from step $t$ one step at a
# time, keeping only the vector $\delta^{(t)}_k$:
#
# $$ \delta^{(t)}_t = \big(V^\top (o_t - y_t)\big) \odot (1 - s_t^2) , \qquad
#    \delta^{(t)}_{k-1} = \big(W^\top \delta^{(t)}_k\big) \odot (1 - s_{k-1}^2) , $$
#
# where $\odot$ multiplies elementwise. (Why: since
# $\partial s_t / \partial s_{k-1} = \frac{\partial s_t}{\partial s_k} \, \mathrm{diag}(1 - s_k^2) \, W$,
# its transpose times $V^\top (o_t - y_t)$ is exactly $W^\top \delta^{(t)}_k$;
# the factor $\mathrm{diag}(1 - s_{k-1}^2)$ of step $k-1$ completes $\delta^{(t)}_{k-1}$.)
# In words: send the output error back through $V^\top$, through the $\tanh$
# slope of the step, then back one step at a time through $W^\top$ and the
# $\tanh$ slope of the earlier step. At every step $k$ on the way add
# $\delta^{(t)}_k s_{k-1}^\top$ to the gradient of $W$ and
# $\delta^{(t)}_k x_k^\top$ to that of $U$. Each step back is a matrix-vector
# product, $O(H^2)$.
#
# Careful at $k = 0$: the state before it is `s0` (zeros when `None`). In
# NumPy, `s[-1]` is the *last* state of the sequence, not the initial one.
#
# ### Truncated BPTT
#
# For long sequences we often stop the walk back early. With
# `bptt_truncate` $= \tau$, the error of $E_t$ flows back to the states
# $s_t, s_{t-1}, \dots, s_{\max(0, t-\tau)}$ and no further: the sums over $k$
# above run from $k = \max(0, t - \tau)$ to $t$ only. The state just before
# the first kept step is treated as a constant — it still appears in the last
# outer product $\delta^{(t)}_k s_{k-1}^\top$, but nothing flows into it.
#
# - $\tau = 0$: only the step itself, $\partial E_t / \partial W \approx \delta^{(t)}_t s_{t-1}^\top$.
# - $\tau \ge T - 1$, or `None`: full BPTT, the exact gradient.
# - $\partial E / \partial V$ never goes back through time, so it is the same for every $\tau$.
#
# Truncation saves work — at most $\tau$ steps back for each $t$ — and it is
# a deliberate approximation: the gradient no longer teaches the network
# dependencies longer than $\tau$ steps.
#
# (For full BPTT the walks for all $t$ can even be merged into one backward
# sweep, $\delta_k = \big(V^\top (o_k - y_k) + W^\top \delta_{k+1}\big) \odot (1 - s_k^2)$
# from $k = T-1$ down to 0 — $O(T)$ instead of $O(T^2)$ work. Either way gives
# the same numbers.)

# %%
def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    """Gradients of the summed cross-entropy loss of a vanilla RNN.

    The loss is E = cross_entropy_loss(rnn_forward(x, U, W, V, s0)[1], y).

    Args:
        x: inputs, shape (T, D); row t is x_t.
        y: target class indices, shape (T,), integers in [0, K).
        U: input-to-hidden weights, shape (H, D).
        W: hidden-to-hidden weights, shape (H, H).
        V: hidden-to-output weights, shape (K, H).
        s0: initial state s_{-1}, shape (H,), or None for zeros.
        bptt_truncate: None for full BPTT, or an int tau >= 0: the error of
            E_t flows back to s_t, s_{t-1}, ..., s_{max(0, t-tau)} only.

    Returns:
        dict {"U": dU, "W": dW, "V": dV} with dU (H, D), dW (H, H) and
        dV (K, H), the gradients of E (truncated as above).
    """
    ### BEGIN SOLUTION
    # HINT: dV needs no walk back; for dW and dU, for each t start delta at step t and walk back to max(0, t - bptt_truncate) with the recursion above.
    T = x.shape[0]
    s_init = np.zeros(W.shape[0]) if s0 is None else s0
    s, o = rnn_forward(x, U, W, V, s_init)

    err = np.array(o, dtype=np.float64)
    err[np.arange(T), y] -= 1.0  # row t: e_t = o_t - onehot(y_t)

    dU = np.zeros(U.shape)
    dW = np.zeros(W.shape)
    dV = np.zeros(V.shape)
    for t in range(T):
        dV += np.outer(err[t], s[t])
        first = 0 if bptt_truncate is None else max(0, t - bptt_truncate)
        delta = (V.T @ err[t]) * (1.0 - s[t] ** 2)  # dE_t/da_t
        for k in range(t, first - 1, -1):
            s_before = s[k - 1] if k > 0 else s_init
            dW += np.outer(delta, s_before)
            dU += np.outer(delta, x[k])
            if k > first:
                delta = (W.T @ delta) * (1.0 - s[k - 1] ** 2)  # dE_t/da_{k-1}
    return {"U": dU, "W": dW, "V": dV}
    ### END SOLUTION


# %% tags=["check"]
check("rnn_backward")

# %% [markdown]
# ## Vanishing and exploding gradients
#
# The term of $\partial E_t / \partial W$ that comes from step $k$ carries the
# product $\partial s_t / \partial s_k$ of $t - k$ Jacobians. Measure matrices
# with the spectral norm $\|A\|$ (the largest singular value, so that
# $\|AB\| \le \|A\| \, \|B\|$). Every factor has
# $\|\mathrm{diag}(1 - s_j^2) W\| \le \gamma \, \sigma_{\max}(W)$, where
# $\sigma_{\max}(W)$ is the largest singular value of $W$ and
# $\gamma = \max (1 - s_{j,i}^2) \le 1$ bounds the slope of $\tanh$. Hence
#
# $$ \Big\| \frac{\partial s_t}{\partial s_k} \Big\| \le \big(\gamma \, \sigma_{\max}(W)\big)^{t-k} . $$
#
# - **Vanishing.** If $\gamma \, \sigma_{\max}(W) < 1$ — in particular whenever
#   $\sigma_{\max}(W) < 1$ — the bound shrinks *geometrically* with the
#   distance $t - k$. Errors from far in the future barely reach early steps,
#   and a vanilla RNN struggles to learn long-range dependencies. Saturated
#   units ($s_{j,i}$ near $\pm 1$, slope near 0) make it worse.
# - **Exploding.** Since $\gamma \le 1$, the product can only grow if
#   $\sigma_{\max}(W) > 1$. That is necessary, not sufficient; but when it does
#   grow it also grows geometrically, and one huge gradient can throw the
#   weights far away in a single update.
#
# ### Seen with your `jacobian_product`
#
# The cell below runs an RNN forward for $T = 60$ steps with
# $W = c \, Q$, where $Q$ is a random orthogonal matrix (from `np.linalg.qr`),
# so that every singular value of $W$ is exactly $c$, and a small $U$, so the
# units do not saturate at once. Then it asks your `jacobian_product` how much
# the last state depends on each earlier one, and plots the spectral norm
# $\| \partial s_t / \partial s_k \|$ against the distance $t - k$ (on a
# log scale, where geometric decay is a straight line), for several scales $c$.
#
# What to look for:
#
# - $c = 0.5$: a straight line down. After 20 steps the factor is below
#   $10^{-6}$: an error at step $t$ says next to nothing about step $t - 20$.
# - $c = 1$: $W$ preserves lengths, yet the norm still decays, because every
#   $\tanh$ slope $1 - s_{j,i}^2$ is below 1.
# - $c = 1.5$ and $c = 3$: the product grows; for $c = 3$ by orders of
#   magnitude, and an update with such a gradient would wreck the weights.
#   Not without limit, though: large states saturate $\tanh$, whose slope
#   then damps the product again. That is why growth is slower than
#   $c^{t-k}$.
#
# Run it after `jacobian_product` passes its check (the autograder skips this cell).
# To try other scales, call `vanishing_gradients(scales=(0.9, 1.1))` in a new cell.

# %% tags=["plot"]
from rnnkit.plots import illustration


@illustration
def vanishing_gradients(scales=(0.5, 1.0, 1.5, 3.0), H=32, D=8, T=60, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((H, H)))  # orthogonal: every singular value is 1
    U = 0.1 * rng.standard_normal((H, D))
    x = rng.standard_normal((T, D))
    distances = np.arange(T)
    curves = {}
    for c in scales:
        W = c * Q
        states = [np.zeros(H)]
        for x_t in x:  # the forward pass, written out so that only jacobian_product is yours
            states.append(np.tanh(U @ x_t + W @ states[-1]))
        states = np.array(states[1:])  # (T, H): row t is s_t
        last = T - 1
        curves[c] = [np.linalg.norm(jacobian_product(states, W, last, last - d), 2) for d in distances]

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for c, norms in curves.items():
        ax.semilogy(distances, np.maximum(norms, 1e-30), label=f"W = {c:g} Q")
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("distance t - k (steps back in time)")
    ax.set_ylabel("spectral norm of ds_t / ds_k")
    ax.set_title("How much of the gradient reaches k steps back (vanilla RNN)")
    ax.legend()
    fig.tight_layout()
    plt.show()


# %% [markdown]
# The LSTM and GRU of Parts 4 and 5 are built to fight vanishing gradients.
# For exploding gradients there is a simple, effective remedy.
#
# ## Gradient norm clipping
#
# Pascanu, Mikolov and Bengio (2013) proposed rescaling the gradient when it is
# too long. Treat the gradients of *all* parameters as one long vector $g$,
# with the **global** L2 norm
#
# $$ \|g\| = \sqrt{\sum_{P \in \{U, W, V\}} \sum_{i,j} \Big(\frac{\partial E}{\partial P_{ij}}\Big)^2} . $$
#
# Then, for a threshold $\theta$:
#
# $$ \text{if } \|g\| > \theta: \qquad g \leftarrow \theta \, \frac{g}{\|g\|} . $$
#
# Every array is multiplied by the same factor $\theta / \|g\|$, so the
# update keeps its **direction** and only its length is capped at $\theta$.
# (Clipping each array on its own, or each entry with `np.clip`, would change
# the direction.) Gradients that are short enough are left as they are.

# %%
def clip_gradient_norm(grads, max_norm):
    """Rescale a set of gradients so that their global L2 norm is at most max_norm.

    Args:
        grads: dict of name -> gradient array (any shapes), for example the
            result of rnn_backward.
        max_norm: the threshold theta, a positive float.

    Returns:
        A new dict with the same keys and new arrays (never the input
        arrays): when the global norm sqrt(sum of all squared entries of all
        arrays) exceeds max_norm, every array times max_norm / norm;
        otherwise equal copies. ``grads`` is not modified.
    """
    ### BEGIN SOLUTION
    # HINT: one norm for all arrays together (the square root of the sum of every array's squared entries); return copies either way.
    norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads.values()))
    if norm > max_norm:
        scale = max_norm / norm
        return {name: g * scale for name, g in grads.items()}
    return {name: np.array(g, copy=True) for name, g in grads.items()}
    ### END SOLUTION


# %% tags=["check"]
check("clip_gradient_norm")

# %% [markdown]
# ## Gradient checking
#
# Gradient code is easy to get subtly wrong and hard to debug by reading. The
# cure is to compare it with a numerical gradient built from the definition of
# the derivative. Taylor expansion shows why *centred* differences are the
# right choice:
#
# $$ \frac{f(x + \varepsilon) - f(x)}{\varepsilon} = f'(x) + \frac{\varepsilon}{2} f''(x) + O(\varepsilon^2)
#    \qquad \text{(forward: error } O(\varepsilon)\text{)} $$
#
# $$ \frac{f(x + \varepsilon) - f(x - \varepsilon)}{2 \varepsilon} = f'(x) + \frac{\varepsilon^2}{6} f'''(x) + O(\varepsilon^4)
#    \qquad \text{(centred: error } O(\varepsilon^2)\text{)} $$
#
# The even terms cancel. With $\varepsilon = 10^{-5}$ the centred error is
# around $10^{-10}$, the forward one around $10^{-5}$. (A much smaller
# $\varepsilon$ does not help: rounding errors of about
# $10^{-16} |f| / \varepsilon$ take over.)
#
# For a function of an array, do this for one entry at a time: add
# $\varepsilon$ to entry $i$ only ($x + \varepsilon e_i$), evaluate, subtract
# it instead, evaluate, and divide the difference by $2\varepsilon$.
#
# Two details matter:
#
# - **Never modify the caller's array.** Work on a copy of `x`.
# - **Restore each entry exactly.** Save the entry's value before you change
#   it and write the saved value back. Computing `(v + eps) - eps` does not
#   always give back `v` in floating point, and the small errors would
#   pollute every later evaluation.
#
# A good check reports the relative error
# $|a - n| / \max(|a|, |n|)$ between an analytic gradient $a$ and the numerical
# one $n$: around $10^{-7}$ or less means the gradient is right; $10^{-2}$
# means a bug.

# %%
def numerical_gradient(f, x, eps=1e-5):
    """Numerical gradient of a scalar function by centred differences.

    Args:
        f: a function taking an array shaped like ``x`` and returning a float.
        x: the point, an array of any shape.
        eps: the step, a positive float.

    Returns:
        A float array shaped like ``x`` whose entry i is
        (f(x + eps*e_i) - f(x - eps*e_i)) / (2*eps). ``x`` is unchanged.
    """
    ### BEGIN SOLUTION
    # HINT: work on a float copy of x; for each index in np.ndindex(x.shape) save the entry, set it to +eps and -eps, then write the saved value back.
    point = np.array(x, dtype=np.float64)
    grad = np.zeros(point.shape)
    for index in np.ndindex(point.shape):
        saved = point[index]
        point[index] = saved + eps
        f_plus = f(point)
        point[index] = saved - eps
        f_minus = f(point)
        point[index] = saved
        grad[index] = (f_plus - f_minus) / (2.0 * eps)
    return grad
    ### END SOLUTION


# %% tags=["check"]
check("numerical_gradient")

# %% [markdown]
# ## Putting it together: check your `rnn_backward`
#
# With `numerical_gradient` you can test `rnn_backward` yourself, one
# parameter at a time. For example, for $W$:
#
# ```python
# rng = np.random.default_rng(0)
# T, D, H, K = 5, 3, 4, 6
# x = rng.standard_normal((T, D))
# y = rng.integers(0, K, size=T)
# U = 0.5 * rng.standard_normal((H, D))
# W = 0.5 * rng.standard_normal((H, H))
# V = 0.5 * rng.standard_normal((K, H))
#
# def loss_of_W(W_try):
#     o = rnn_forward(x, U, W_try, V)[1]
#     return -np.sum(np.log(o[np.arange(T), y]))
#
# n = numerical_gradient(loss_of_W, W)
# a = rnn_backward(x, y, U, W, V)["W"]
# print(np.max(np.abs(a - n) / np.maximum(np.abs(a), np.abs(n))))
# ```
#
# This compares against *full* BPTT. A truncated gradient is deliberately not
# the gradient of $E$, so it will not match (unless $\tau \ge T - 1$).
#
# ## What next
#
# You can now train a vanilla RNN: forward pass, loss, BPTT, clipping, a
# gradient step. You have also seen its weakness — gradients that vanish over
# long distances. Part 4 introduces the LSTM, whose gated cell state gives the
# error a path back in time that is not squashed at every step.
