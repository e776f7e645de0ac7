# Modules generated from the proto at install time (setup.py).
