"""Benchmarks of the kit: rnnkit against nbgrader and otter-grader, and rnnkit's own internals.

Run ``python bench/grading.py`` (``make bench``, ``make bench-scale``); the modules:

* :mod:`.machine`         the machine, and measuring a command's process tree;
* :mod:`.classes`         the synthetic class, in each grader's layout, and the exports;
* :mod:`.graders`         running the three graders, reading their scores, agreement;
* :mod:`.imports`         interpreter start and import costs;
* :mod:`.internals`       `rnnkit grade`'s phases and memory, in-process;
* :mod:`.anatomy`         probe files through the sandbox, against the same work in-process;
* :mod:`.report`          the comparison and scale sections, writing ``results.md``;
* :mod:`.profile_report`  the profile section.
"""
