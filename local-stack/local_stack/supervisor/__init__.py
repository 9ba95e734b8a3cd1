"""`just local`'s supervisor: the Procfile's processes (`processes`), run by
`python -m local_stack.supervisor`."""
