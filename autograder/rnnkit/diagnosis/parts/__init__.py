"""The known mistakes of each part of the course: its variants and its catalogue entries, one module a part.

Imported by :mod:`..catalogue`, in course order (the order of the catalogue).
"""
