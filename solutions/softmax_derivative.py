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
# # Part 2 — The derivative of softmax
#
# To train an RNN we need to know how the loss changes when the weights
# change. Every gradient in Part 3 starts at the same place: the output layer,
# where the logits $z_t = V s_t$ go through softmax into $o_t$ and then into
# the cross-entropy loss. This part works out that first link of the chain
# carefully, because it is the one everything else is built on.
#
# You will write two small functions: the full Jacobian of softmax, and the
# gradient of softmax followed by cross-entropy — which turns out to be far
# simpler than either piece on its own. As in Part 1, replace each stub with
# your code and run the `check(...)` cell below it.

# %%
import numpy as np

# %% tags=["check"]
from rnnkit.checks import make_check

check = make_check("softmax_derivative", globals())

# %% [markdown]
# ## The softmax Jacobian
#
# For logits $z \in \mathbb{R}^K$ softmax gives probabilities
#
# $$ y_i = \mathrm{softmax}(z)_i = \frac{e^{z_i}}{S}, \qquad S = \sum_{k=1}^{K} e^{z_k} . $$
#
# The denominator $S$ sums over **all** $K$ classes — so every output $y_i$
# depends on every logit $z_j$, not only on its own $z_i$. Its derivative is
# therefore a $K \times K$ matrix, the Jacobian $J_{ij} = \partial y_i / \partial z_j$.
#
# Differentiate $y_i = e^{z_i} / S$ with the quotient rule, using
# $\partial e^{z_i} / \partial z_j = \delta_{ij} e^{z_i}$ (where $\delta_{ij}$ is
# 1 when $i = j$ and 0 otherwise) and $\partial S / \partial z_j = e^{z_j}$:
#
# $$ \frac{\partial y_i}{\partial z_j}
#    = \frac{\delta_{ij} e^{z_i} S - e^{z_i} e^{z_j}}{S^2}
#    = \delta_{ij} \frac{e^{z_i}}{S} - \frac{e^{z_i}}{S} \frac{e^{z_j}}{S}
#    = y_i (\delta_{ij} - y_j) . $$
#
# Written as a matrix,
#
# $$ J = \mathrm{diag}(y) - y y^\top . $$
#
# - On the diagonal, $J_{ii} = y_i (1 - y_i)$. It looks like the derivative of
#   the logistic sigmoid, $\sigma(1 - \sigma)$, but here $y_i$ is a softmax
#   output that depends on all the logits, and the matrix also has
#   off-diagonal entries $J_{ij} = -y_i y_j$ for $i \ne j$: raising one logit
#   lowers every other probability.
# - $J$ is **symmetric**: $y_i y_j = y_j y_i$.
# - Every **row sums to 0**: $\sum_j y_i (\delta_{ij} - y_j) = y_i - y_i \sum_j y_j = 0$.
#   Adding the same constant to every logit changes nothing — the shift trick
#   of Part 1 again. By symmetry every **column sums to 0** too: the
#   probabilities always add up to 1, so their changes add up to 0.
#
# Note that the Jacobian is written in terms of the *output* $y$ only; you do
# not need $z$ to compute it.

# %%
def softmax_jacobian(y):
    """Jacobian of softmax, written in terms of its output.

    Args:
        y: a softmax output (a probability vector), shape (K,).

    Returns:
        J, shape (K, K), with J[i, j] = dy_i/dz_j = y[i] * (delta_ij - y[j]),
        that is diag(y) - outer(y, y).
    """
    ### BEGIN SOLUTION
    # HINT: build J from two pieces, a diagonal matrix (np.diag) and an outer product (np.outer).
    return np.diag(y) - np.outer(y, y)
    ### END SOLUTION


# %% tags=["check"]
check("softmax_jacobian")

# %% [markdown]
# ## Softmax and cross-entropy together
#
# At one time step with target class $c$, the loss is $E = -\log y_c$. Its
# gradient with respect to the probabilities is zero everywhere except at the
# target:
#
# $$ \frac{\partial E}{\partial y} = -\frac{\mathbf{1}_c}{y}
#    \quad\text{(the vector with } -1/y_c \text{ at position } c \text{ and 0 elsewhere)}, $$
#
# where $\mathbf{1}_c$ is the one-hot vector of class $c$. The chain rule takes
# it back to the logits through the Jacobian:
#
# $$ \frac{\partial E}{\partial z_j} = \sum_i \frac{\partial E}{\partial y_i} \frac{\partial y_i}{\partial z_j}
#    = \Big(J^\top \frac{\partial E}{\partial y}\Big)_j
#    = -\frac{1}{y_c} \, y_c (\delta_{cj} - y_j) = y_j - \delta_{cj} , $$
#
# that is
#
# $$ \frac{\partial E}{\partial z} = y - \mathbf{1}_c . $$
#
# The $1/y_c$ cancels against the $y_c$ of the Jacobian: the gradient is simply
# "what the network predicted minus what it should have predicted". It needs
# no $K \times K$ matrix and no division — cheaper, and safe even when $y_c$
# is so small that it rounds to 0.
#
# **Over a sequence.** In the RNN, $o_t = \mathrm{softmax}(z_t)$ with
# $z_t = V s_t$, and the loss is the sum $E = \sum_t E_t$ with
# $E_t = -\log o_{t, y_t}$. Each $E_t$ depends only on its own logits $z_t$, so
# row $t$ of the gradient is $o_t - \mathbf{1}_{y_t}$. For the whole sequence,
# with `o` of shape $(T, K)$ and `y` of shape $(T,)$:
#
# $$ \frac{\partial E}{\partial z} = o - \mathrm{onehot}(y), \quad \text{shape } (T, K) , $$
#
# where row $t$ of $\mathrm{onehot}(y)$ is $\mathbf{1}_{y_t}$. Each row of the
# result sums to 0, like the columns of $J$.

# %%
def softmax_cross_entropy_grad(o, y):
    """Gradient of the summed cross-entropy loss with respect to the logits.

    For E = -sum_t log o[t, y[t]] with o[t] = softmax(z[t]).

    Args:
        o: softmax outputs, shape (T, K); row t is o_t.
        y: target class indices, shape (T,), integers in [0, K).

    Returns:
        dE/dz = o - onehot(y), shape (T, K). ``o`` is not modified.
    """
    ### BEGIN SOLUTION
    # HINT: work on a copy of o; o[np.arange(T), y] picks each step's target entry.
    T = o.shape[0]
    grad = np.array(o, dtype=np.float64)
    grad[np.arange(T), y] -= 1.0
    return grad
    ### END SOLUTION


# %% tags=["check"]
check("softmax_cross_entropy_grad")

# %% [markdown]
# ## What next
#
# $o_t - \mathbf{1}_{y_t}$ is the error signal at the output of step $t$. In
# Part 3 you will send it back through $V$, through $\tanh$ and through $W$,
# step by step back in time, to get the gradients of $U$, $W$ and $V$:
# backpropagation through time.
