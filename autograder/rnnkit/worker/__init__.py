"""The modules that run inside the sandbox, next to student code: this package and nothing else.

A worker process (forked from the zygote, see :mod:`.zygote`) imports only
this package, the standard library, numpy and IPython's input transformer.
Nothing else of the kit is loaded there, and in the ``bwrap`` sandbox nothing
else of the kit is even visible: the hidden cases, the reference solutions,
the mistake recognisers and the exports stay on the grader's side.

* :mod:`.calls`    values as plain data (a JSON skeleton and raw array bytes), never a pickle;
* :mod:`.cells`    a student's file as code cells, and running them one after another;
* :mod:`.frames`   length-prefixed frames on pipes and sockets;
* :mod:`.zygote`   the clean process that forks one worker per task.

A test (``tests/test_worker_boundary.py``) checks that these modules import
nothing from the rest of the kit.
"""
