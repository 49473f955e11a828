"""Grading outputs that are complete, consistent and cannot be forged.

* :mod:`.files`: atomic writes and the output folder's lock;
* :mod:`.safe`: student ids and student text, safe in CSV, markdown, HTML and JSON;
* :mod:`.store`: ``manifest.json`` and each student's ``grade.json`` (content digests, kept grades);
* :mod:`.run`: one grading run into a folder, re-grading only what changed.
"""
