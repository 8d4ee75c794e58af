"""The demo's terminal, shared by the commands it runs and the notes of its blocker sessions.

A blocker writes its notes from a thread of the demo while a child ``manage.py`` writes its
own output: written straight to the terminal, a note could land in the middle of the child's
``Applying shop.0004_order_status...`` line. So the child's output is copied through here,
and a note that arrives while a line is open waits for that line to end.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import threading
from collections.abc import Callable

from django.core.management.base import OutputWrapper


class Console:
    """Lines from child commands and notes from threads, never one inside the other."""

    def __init__(self, out: OutputWrapper, style: Callable[[str], str]) -> None:
        self.out = out
        self.style = style
        self._lock = threading.Lock()
        self._line_open = False
        self._held: list[str] = []

    def note(self, message: str) -> None:
        """Write one note line now, or as soon as the line being written ends."""
        with self._lock:
            if self._line_open:
                self._held.append(message)
            else:
                self._write_note(message)

    def run(self, command: list[str]) -> int:
        """Run ``command``, copy its output (both streams, in order) here, return its exit code."""
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # its lines as they come
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment
        ) as child:
            assert child.stdout is not None
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            # read1: whatever has arrived, so "Applying x..." shows before its "OK".
            while chunk := child.stdout.read1(4096):
                self._copy(decoder.decode(chunk))
            self._copy(decoder.decode(b"", final=True))
        with self._lock:
            if self._line_open:
                self._end_line("\n")
        return child.returncode

    def _copy(self, text: str) -> None:
        with self._lock:
            head, newline, tail = text.rpartition("\n")
            if newline:
                self._end_line(head + newline)
            if tail:
                self.out.write(tail, ending="")
                self._line_open = True
            self.out.flush()

    def _end_line(self, text: str) -> None:
        """Write ``text``, which ends a line, then the notes that waited for it."""
        self.out.write(text, ending="")
        self._line_open = False
        for message in self._held:
            self._write_note(message)
        self._held.clear()

    def _write_note(self, message: str) -> None:
        self.out.write(self.style(f"   {message}"))
        self.out.flush()
