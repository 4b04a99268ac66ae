"""The tutorials' programs, runnable as `python -m arignote.examples.NAME`."""
