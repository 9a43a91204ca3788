"""`capture values`, `capture parts` and `capture sessions`: a thread's values and parts from a
shell, through the session client, from whichever store the entry finds (the named one, the
configured one when it answers, else the embedded store on disk)."""
