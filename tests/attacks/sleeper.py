# A student whose functions leave a setsid, double-forked sleeper behind, then take a few
# seconds each (so that the grading run can be killed meanwhile). The sleeper carries MARK in
# its command line (it execs Python) or, when it cannot exec, in its name (prctl PR_SET_NAME,
# or /proc/self/comm).
import os
import sys
import time

import numpy as np

MARK = @@MARK@@  # at most 15 characters: it must fit in /proc/self/comm


def _spawn():
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                try:  # PR_SET_NAME: works even where /proc/self/comm is not writable
                    import ctypes

                    ctypes.CDLL(None).prctl(15, MARK.encode(), 0, 0, 0)
                except Exception:
                    try:
                        with open("/proc/self/comm", "w") as f:
                            f.write(MARK)
                    except OSError:
                        pass
                for fd in range(3, 256):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                try:
                    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(1000)  # " + MARK])
                except OSError:
                    pass
                end = time.time() + 1000
                while time.time() < end:
                    time.sleep(1)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


_spawn()


def _slow():
    _spawn()
    time.sleep(3)


def softmax(z):
    _slow()
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    _slow()
    return np.tanh(U @ x_t + W @ s_prev)


def rnn_forward(x, U, W, V, s0=None):
    _slow()
    raise NotImplementedError


def cross_entropy_loss(o, y):
    _slow()
    raise NotImplementedError
