"""Running student code away from the grader: a clean zygote, forked workers, limits.

* :mod:`.protocol`  length-prefixed JSON frames with an optional binary payload;
* :mod:`.zygote`    the process inside the sandbox that forks one worker per submission part;
* :mod:`.pool`      the grader's side: starts zygotes (in bubblewrap when available) and talks to them.
"""
