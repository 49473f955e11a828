"""The course secret, and the hidden inputs it gives each student.

Hidden inputs differ per student: each task's cases are drawn from a seed that
is an HMAC, keyed with the course secret, of the student id, the part and the
SHA-256 of the submitted file. So

* the same file of the same student always gets the same inputs (re-grading
  gives the same grade);
* a changed file gets new inputs (feedback on one submission says nothing
  exact about the next one);
* nobody can compute another student's inputs without the secret.

The secret is ``$RNNKIT_SECRET`` when set, else the file ``.rnnkit/secret`` in
the course root, created (32 random bytes, readable by its owner only) the first
time a class is graded. Keep it out of version control (``.gitignore`` has it)
and keep it: with another secret, partly wrong functions may get other scores.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

#: The course's private folder (0700), beside course.yml: the secret, and caches of hidden data.
PRIVATE_DIR = Path(".rnnkit")
SECRET_FILE = PRIVATE_DIR / "secret"
ENV = "RNNKIT_SECRET"


class SecretError(RuntimeError):
    """The course secret cannot be read or created (the message says what to do)."""


def course_secret(course_root: Path) -> bytes:
    """The secret of the course at ``course_root`` (created on first use)."""
    if os.environ.get(ENV):
        return os.environ[ENV].encode()
    path = Path(course_root) / SECRET_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise SecretError(f"the course secret {path} cannot be read ({exc}); fix its permissions or set {ENV}") from None
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return course_secret(course_root)  # another run created it a moment ago
    except OSError as exc:
        raise SecretError(f"the course secret {path} cannot be created ({exc.strerror}); set {ENV} to a long random string") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")
    return course_secret(course_root)


def task_seed(secret: bytes, student: str, part: str, data: bytes, filename: str = "") -> int:
    """The seed of one student's hidden inputs for one part: depends on the file's content and its name too.

    The name counts because a file can read its own name while it runs: with the content alone, the same bytes
    handed in again under another accepted name (``rnn_forward (2).py``) would meet the inputs they had already
    seen, and could carry answers computed for them, keyed by a name chosen afterwards.
    """
    message = json.dumps([student, part, hashlib.sha256(data).hexdigest(), filename]).encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:8], "big")
