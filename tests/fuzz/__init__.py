"""Coverage-guided fuzzing (atheris / libFuzzer) of every parser that takes outside bytes.

`just fuzz TARGET [SECONDS]` runs one target (`all`: each in turn); `just benchmark fuzz` reports inputs tried
and unique crashes per target. A crash is anything but the module's own typed error (or a broken property,
e.g. the SQL guard letting a write through): each one found is saved with its traceback under
`.cache/fuzz/<target>/crashes/` and becomes a regression test in tests/fuzz/.

Modules: `targets` (what each target feeds where, and what counts as a crash), `seeds` (the starting corpora:
the edge-case payloads, fully populated requests and the generator's own output), `worker` (the atheris
process), `campaign` (runs a worker for a time budget, restarts it after a hard crash, keeps the ledger).
"""
