"""Exports of the course to the places students and instructors already work.

One module per target:

* :mod:`.release`: what students get (notebooks, public checks, a student README);
* :mod:`.gradescope`: a Gradescope autograder zip that grades with the kit's sandbox;
* :mod:`.nbgrader`: an nbgrader course, and writing the kit's grades into its gradebook
  (:mod:`.nbgrader_feedback`: the notebooks ``nbgrader generate_feedback`` needs);
* :mod:`.otter`: otter-assign master notebooks;
* :mod:`.lms`: ``grades.csv`` as a Canvas or Moodle gradebook import file.

Shared pieces: :mod:`.runtime` builds the student edition of the kit (the public
checks, numpy only), :mod:`.inkernel` runs hidden tests inside a notebook's kernel
(nbgrader, otter) and :mod:`.hidden` packs the hidden cases for it.

This package's ``__init__`` imports nothing: the student edition ships a copy of
:mod:`.inkernel`, which must import without the rest of the kit.
"""


class ExportError(RuntimeError):
    """An export that cannot be made, with a message that says why."""
