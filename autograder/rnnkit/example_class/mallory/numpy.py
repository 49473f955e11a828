raise SystemExit("a student numpy.py must never be imported")
