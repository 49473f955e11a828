raise SystemExit("a student conftest.py must never be imported")
