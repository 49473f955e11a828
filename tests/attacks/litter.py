# A student who leaves things behind: files and folders in every world-writable place it can
# find (/tmp, /dev/shm, /var/tmp, $TMPDIR, $HOME), at load time and in every call, and a System V
# shared memory segment; its real code is a correct softmax.
import os
import tempfile

import numpy as np

MARK = @@MARK@@
SHM_KEY = @@SHM_KEY@@


def _litter(tag):
    places = ["/tmp", "/dev/shm", "/var/tmp", tempfile.gettempdir(), os.environ.get("TMPDIR", "/tmp"), os.path.expanduser("~")]
    for place in places:
        try:
            with open(os.path.join(place, f"{MARK}-{tag}-file"), "w") as f:
                f.write("left behind")
        except OSError:
            pass
        try:
            os.makedirs(os.path.join(place, f"{MARK}-{tag}-dir", "inner"), exist_ok=True)
            with open(os.path.join(place, f"{MARK}-{tag}-dir", "inner", "f"), "w") as f:
                f.write("x")
        except OSError:
            pass


def _shared_memory():
    """A System V shared memory segment: it outlives every process unless someone removes it."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmget(SHM_KEY, 4096, 0o1000 | 0o666)  # IPC_CREAT
    except Exception:
        pass


_litter("load")
_shared_memory()


def softmax(z):
    _litter("call")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
