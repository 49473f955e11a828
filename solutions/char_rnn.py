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
# # Capstone — a character-level language model (ungraded)
#
# Time to see your code learn. This notebook trains a small **language
# model**: a network that reads a text one character at a time and, after
# every character, predicts the next one. It is built from the functions you
# wrote in Parts 1–5 — your forward passes, your loss, your softmax gradient,
# your backpropagation through time and your gradient clipping — and it trains
# three of them on the same text: a vanilla RNN, an LSTM and a GRU.
#
# Nothing here is graded, and there is nothing to fill in. Run it top to
# bottom (it takes about a minute), look at what comes out, then change
# things and run it again.
#
# **Your functions, and only yours.** The next cell looks for your notebooks
# of the earlier parts (`rnn_forward.ipynb`, `softmax_derivative.ipynb`,
# `bptt.ipynb`, `lstm.ipynb`, `gru.ipynb`, or the same names ending in `.py`)
# in the folder of this notebook and runs them quietly (without their check
# and plot cells). Then it tries each function the models need on a tiny
# input: does it run, does it return the right shapes and finite numbers,
# does a step agree with your sequence function, does a backward pass match
# finite differences of your own forward pass? It prints one line per
# function, usable or not and why, and then which models train:
#
# | model | writes text with | trains with, in addition |
# |---|---|---|
# | vanilla RNN | `rnn_step_forward`, `softmax` | `rnn_forward`, `cross_entropy_loss`, `rnn_backward`, `clip_gradient_norm` |
# | LSTM | `lstm_step_forward`, `softmax` | `lstm_forward`, `cross_entropy_loss`, `softmax_cross_entropy_grad`, `lstm_backward` (bonus), `clip_gradient_norm` |
# | GRU | `gru_step_forward`, `softmax` | `gru_forward`, `cross_entropy_loss`, `softmax_cross_entropy_grad`, `gru_backward` (bonus), `clip_gradient_norm` |
#
# A model whose functions are not all usable is skipped, and the notebook
# says which function holds it back; if its step and your `softmax` work, it
# still writes its untrained sample (with Part 1 done, the vanilla RNN does).
# The kit adds no code of its own in place of a missing function: what trains
# here is yours alone. The backward passes of the LSTM and GRU are the bonus
# functions of Parts 4 and 5: without them, those two models do not train.
# Finish a function, save its notebook, and run this notebook again.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from rnnkit import demo

# %%
fns = demo.load_functions()

# %% [markdown]
# ## The text
#
# The kit ships a short text in the public domain: Edgar Allan Poe's poem
# *The Raven* (1845), about 6,000 characters. It is tiny by the standards of
# language models, which is what makes it trainable in seconds with plain
# numpy — and its rhymes, repeated lines and refrains ("nevermore", "chamber
# door") give a small model something to find.
#
# Every distinct character gets an index; the model's input at step $t$ is
# the **one-hot** vector of character $t$ (so $D = K$, the size of the
# vocabulary), and its target is the index of character $t+1$.

# %%
text = demo.load_text()
chars = sorted(set(text))
K = len(chars)  # vocabulary size: input size D and number of classes K
index_of = {ch: i for i, ch in enumerate(chars)}
data = np.array([index_of[ch] for ch in text])


def one_hot(ids):
    """Rows of the K x K identity: shape (len(ids), K)."""
    return np.eye(K)[ids]


print(f"{demo.about_text()}: {len(text)} characters, {K} distinct.")
print(repr("".join(chars)))
print()
print(text[:330])

# %% [markdown]
# ## Settings
#
# Small on purpose, so that all three models train in well under a minute on
# a laptop. Change them freely: a bigger `HIDDEN` or more `STEPS` gives a
# better model and takes longer. (`demo.setting` only lets the kit's own tests
# and `rnnkit demo --steps` shrink or grow these numbers.)

# %%
HIDDEN = demo.setting("hidden", 64)  # size of the hidden state H
SEQ_LEN = demo.setting("seq_len", 25)  # characters per training chunk: how far BPTT looks back
STEPS = demo.setting("steps", 1500)  # parameter updates per model
LEARNING_RATE = demo.setting("learning_rate", 0.1)
MAX_NORM = 5.0  # gradient clipping threshold (Part 3)
SAMPLE_LENGTH = demo.setting("sample_length", 300)  # characters to generate
SEED = 0

print(f"H = {HIDDEN}, chunks of {SEQ_LEN} characters, {STEPS} updates per model "
      f"({STEPS * SEQ_LEN / len(text):.1f} passes over the text).")

# %% [markdown]
# ## Three models, one interface
#
# Each model keeps its parameters in a dict `params`, and has:
#
# - `start()`: the state before the first character (zeros);
# - `loss_and_gradients(x, y, state)`: the summed cross-entropy loss of a chunk,
#   the gradient of every parameter, and the state after the chunk;
# - `next(x_t, state)`: the distribution of the next character after reading
#   one more, and the new state (for sampling).
#
# **The vanilla RNN** is exactly Parts 1 and 3: `rnn_forward` gives the states
# and outputs, `cross_entropy_loss` the loss, `rnn_backward` all three
# gradients.
#
# **The LSTM and GRU** of Parts 4 and 5 only produce hidden states $h_t$. On
# top of them goes the same output layer as the vanilla RNN,
# $o_t = \mathrm{softmax}(V h_t)$, and Part 2 supplies its gradient: with
# $z_t = V h_t$,
#
# $$ \frac{\partial E}{\partial z_t} = o_t - \mathbf{1}_{y_t}, \qquad
#    \frac{\partial E}{\partial V} = \sum_t \frac{\partial E}{\partial z_t} \, h_t^\top, \qquad
#    \frac{\partial E}{\partial h_t} = V^\top \frac{\partial E}{\partial z_t} . $$
#
# The last one, row by row, is precisely the `dh` that `lstm_backward` and
# `gru_backward` take: the gradient a loss on top sends into every hidden
# state. The recurrent backward pass does the rest.

# %%
def output_layer(h, y, V):
    """o_t = softmax(V h_t): the loss, dE/dV and dE/dh (T, H) for hidden states h (T, H)."""
    o = fns.softmax(h @ V.T)
    loss = fns.cross_entropy_loss(o, y)
    dz = fns.softmax_cross_entropy_grad(o, y)  # (T, K): o_t - onehot(y_t), Part 2
    return loss, dz.T @ h, dz @ V


class VanillaRNN:
    name = "vanilla RNN"

    def __init__(self, rng):
        self.params = {
            "U": 0.01 * rng.standard_normal((HIDDEN, K)),
            "W": 0.01 * rng.standard_normal((HIDDEN, HIDDEN)),
            "V": 0.01 * rng.standard_normal((K, HIDDEN)),
        }

    def start(self):
        return np.zeros(HIDDEN)

    def loss_and_gradients(self, x, y, state):
        U, W, V = self.params["U"], self.params["W"], self.params["V"]
        s, o = fns.rnn_forward(x, U, W, V, state)
        grads = fns.rnn_backward(x, y, U, W, V, state)
        return fns.cross_entropy_loss(o, y), grads, s[-1]

    def next(self, x_t, state):
        state = fns.rnn_step_forward(x_t, state, self.params["U"], self.params["W"])
        return fns.softmax(self.params["V"] @ state), state


def gated_params(rng, gates):
    """Weights (H, H + K) for every gate, zero biases, and the output layer V (K, H)."""
    params = {}
    for g in gates:
        params["W" + g] = rng.standard_normal((HIDDEN, HIDDEN + K)) / np.sqrt(HIDDEN + K)
        params["b" + g] = np.zeros(HIDDEN)
    params["V"] = 0.01 * rng.standard_normal((K, HIDDEN))
    return params


class LSTM:
    name = "LSTM"

    def __init__(self, rng):
        self.params = gated_params(rng, "fico")
        self.params["bf"] += 1.0  # start with the forget gate mostly open (see Part 4's plot)

    def start(self):
        return np.zeros(HIDDEN), np.zeros(HIDDEN)

    def cell(self):
        return {k: v for k, v in self.params.items() if k != "V"}

    def loss_and_gradients(self, x, y, state):
        h0, c0 = state
        h, c = fns.lstm_forward(x, self.cell(), h0, c0)
        loss, dV, dh = output_layer(h, y, self.params["V"])
        back = fns.lstm_backward(x, self.cell(), dh, h0, c0)
        grads = {k: back[k] for k in self.cell()}
        grads["V"] = dV
        return loss, grads, (h[-1], c[-1])

    def next(self, x_t, state):
        h, c = fns.lstm_step_forward(x_t, state[0], state[1], self.cell())
        return fns.softmax(self.params["V"] @ h), (h, c)


class GRU:
    name = "GRU"

    def __init__(self, rng):
        self.params = gated_params(rng, "zrh")

    def start(self):
        return np.zeros(HIDDEN)

    def cell(self):
        return {k: v for k, v in self.params.items() if k != "V"}

    def loss_and_gradients(self, x, y, state):
        h = fns.gru_forward(x, self.cell(), state)
        loss, dV, dh = output_layer(h, y, self.params["V"])
        back = fns.gru_backward(x, self.cell(), dh, state)
        grads = {k: back[k] for k in self.cell()}
        grads["V"] = dV
        return loss, grads, h[-1]

    def next(self, x_t, state):
        h = fns.gru_step_forward(x_t, state, self.cell())
        return fns.softmax(self.params["V"] @ h), h


# %% [markdown]
# ## Sampling: letting a model write
#
# To generate text, feed the model a first character, draw the next one from
# the distribution it predicts, feed that one back in, and so on. A
# `temperature` below 1 sharpens the distribution (raise every probability to
# the power $1/\text{temperature}$ and renormalise): the model then picks its
# favourite characters more often and writes less adventurously.
#
# Before any training the weights are random and small, so every character is
# about equally likely: the "text" is noise.

# %%
def sample(model, length=SAMPLE_LENGTH, first="T", temperature=0.8, seed=SEED):
    rng = np.random.default_rng(seed)
    state, ch, out = model.start(), first, [first]
    for _ in range(length - 1):
        p, state = model.next(one_hot([index_of[ch]])[0], state)
        p = p ** (1.0 / temperature)
        ch = chars[rng.choice(K, p=p / p.sum())]
        out.append(ch)
    return "".join(out)


models = [VanillaRNN(np.random.default_rng(SEED)), LSTM(np.random.default_rng(SEED)), GRU(np.random.default_rng(SEED))]
for n, model in enumerate(models):
    if not fns.can_sample(model.name):
        print(f"(The {model.name} cannot write yet: it needs a usable {demo.SAMPLING[model.name][0]} and softmax.)")
        continue
    print(f"--- {model.name}, before training ---")
    with fns.guard(model.name, "writing"):
        print(sample(model, length=min(120, SAMPLE_LENGTH), seed=SEED + n))
    print()

# %% [markdown]
# ## Training: Adagrad with gradient clipping
#
# The text is cut into consecutive chunks of `SEQ_LEN` characters. For each
# chunk the model computes the loss and its gradients with full BPTT *within*
# the chunk; the state at the end of one chunk is the starting state of the
# next, so the model can carry memory across chunks, but no gradient flows
# between them (truncated BPTT, as in Part 3).
#
# Each update first clips the gradients to a global norm of at most
# `MAX_NORM` with your `clip_gradient_norm`, then takes an **Adagrad** step:
# every parameter entry $\theta$ keeps the running sum $m$ of its squared
# gradients and moves by
#
# $$ \theta \leftarrow \theta - \eta \, \frac{g}{\sqrt{m + \epsilon}} , \qquad m \leftarrow m + g^2 . $$
#
# Entries with large gradients so far take smaller steps; rare characters,
# with rare gradients, keep larger ones. We record the loss **per character**:
# a model that guesses uniformly scores $\ln K$, and every bit below that is
# something learned.
#
# Only the models whose functions are all usable train (the table at the
# top says which). If one of your functions raises while training, that
# model stops with a sentence naming the function, and the others go on.

# %%
def train(model, steps=STEPS):
    params = model.params
    memory = {k: np.zeros_like(v) for k, v in params.items()}  # Adagrad's sums of squared gradients
    losses = []
    state, position = model.start(), 0
    for _ in range(steps):
        if position + SEQ_LEN + 1 > len(data):  # end of the text: back to the top, with a fresh state
            state, position = model.start(), 0
        chunk = data[position : position + SEQ_LEN + 1]
        x, y = one_hot(chunk[:-1]), chunk[1:]  # every character predicts the next one
        loss, grads, state = model.loss_and_gradients(x, y, state)
        if not np.isfinite(loss):
            raise demo.Diverged(len(losses), loss)  # fns.guard below stops this model, with a sentence
        grads = fns.clip_gradient_norm(grads, MAX_NORM)
        for k in params:
            memory[k] += grads[k] ** 2
            params[k] -= LEARNING_RATE * grads[k] / np.sqrt(memory[k] + 1e-8)
        losses.append(loss / len(y))
        position += SEQ_LEN
    return np.array(losses)


histories, seconds = {}, {}
for model in models:
    if not fns.can_train(model.name):
        print(fns.skipped(model.name))
        continue
    with fns.guard(model.name):
        start = time.perf_counter()
        losses = train(model)
        seconds[model.name] = time.perf_counter() - start
        histories[model.name] = losses
        print(f"{model.name:12s} {STEPS} updates in {seconds[model.name]:5.1f} s; "
              f"loss per character: first {losses[0]:.2f}, last 100 {losses[-100:].mean():.2f}")
if not histories:
    print(fns.first_steps() or "No model finished training: the sentences above say why.")

# %% [markdown]
# ## The training curves
#
# The loss of a single chunk jumps around (some chunks are harder than
# others), so the plot shows a moving average. The dashed line is the uniform
# guess, $\ln K$. The bumps at regular intervals are the start of a new pass
# over the text: the state starts again from zeros, and the model has to find
# its bearings. Only the models that trained are drawn.

# %%
def smooth(values, weight=0.95):
    out, running = [], values[0]
    for v in values:
        running = weight * running + (1 - weight) * v
        out.append(running)
    return np.array(out)


if histories:
    fig, ax = plt.subplots(figsize=(8, 4.5), num="char_rnn_loss")
    for name, losses in histories.items():
        ax.plot(smooth(losses), label=f"{name} ({seconds[name]:.0f} s)")
    ax.axhline(np.log(K), color="grey", linestyle="--", label=f"uniform guess: ln {K} = {np.log(K):.2f}")
    ax.set_xlabel("update (one chunk of characters each)")
    ax.set_ylabel("loss per character (nats, smoothed)")
    ax.set_title(f"Character-level language models on {demo.TEXTS['the_raven']['title']} (H = {HIDDEN})")
    ax.legend()
    fig.tight_layout()
    plt.show()
else:
    print("No model trained yet, so there is no curve to draw.")

# %% [markdown]
# ## After training
#
# The same sampling as before, from the trained models. Look for what each
# has picked up: spaces between word-sized groups, capitals after a line
# break, frequent words ("the", "and", "my"), the poem's refrains.

# %%
for n, model in enumerate(models):
    if model.name in histories and fns.can_sample(model.name):
        print(f"--- {model.name}, after {STEPS} updates ---")
        with fns.guard(model.name, "writing"):
            print(sample(model, seed=SEED + n))
        print()

# %% [markdown]
# ## What to notice, and what to try
#
# - Every model that trained starts at $\ln K$ and falls fast at first: the
#   easy wins are character frequencies (spaces, `e`, `t`) and common pairs
#   (`th`, `he`).
# - With the same hidden size and the same number of updates, the LSTM and
#   the GRU usually end lower than the vanilla RNN, and their samples are the
#   first to reproduce whole words and the refrain. Part of that is capacity
#   (several weight matrices and biases instead of one $W$), part is easier
#   optimisation: their gated paths let the gradient of a character reach
#   the characters many steps before it (the plots of Parts 3 and 4).
# - Compare the times in the legend. Per step, a gated cell does three or
#   four matrix products where the vanilla RNN does one; yet if your
#   `rnn_backward` walks back from every $t$ separately, it does $O(T^2)$ work
#   per chunk, and the vanilla RNN may be the slowest of the three. The single
#   backward sweep mentioned in Part 3 does $O(T)$.
#
# Things to try:
#
# 1. Train longer (`STEPS = 5000`) or wider (`HIDDEN = 128`) and watch the
#    samples become more poem-like.
# 2. Sample with `temperature=0.5` and with `temperature=1.5`.
# 3. Set `MAX_NORM = 1e9` (no clipping) and a larger `LEARNING_RATE`: does the
#    vanilla RNN still train?
# 4. Give it a text of your own: replace `text = demo.load_text()` with
#    `text = open("my_text.txt").read()` (a few thousand characters or more).
