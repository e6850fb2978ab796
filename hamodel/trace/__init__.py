"""Streaming trace readers: kernel trace text and JSON lines -> records for replay.

ftrace.py reads tracefs text (`cat trace`, `trace_pipe`, µs timestamps) and
`trace-cmd report -N -t` (ns); jsonl.py reads hamodel's portable JSON-lines
format.  Each yields one record per line, never holding the file in memory;
stream.py gives them the lines of a file, a pipe or trace_pipe in bounded chunks.
"""
