"""Secret-looking words cut out of a command line before it leaves the machine (``memtop capture``).

A command line is world-readable in /proc, yet people put passwords in it
(``mysql -pSECRET``, ``--password=x``, ``postgres://u:pw@host``), and a
program may rewrite its argv into one space-separated title, or be started
with ``exec -a "mysql --password=x"`` so that argv[0] itself holds the secret
(issue 13, item 5). So every argument is cut into words on any whitespace,
not on NUL only, and each word is judged: the value goes, the name stays
(it tells what the program was given), and the caller is told how many went.
"""

from __future__ import annotations

import re

#: What a removed value is replaced with.
MASK = b"***"

#: Option or variable names that hold secrets: the name alone or as a part
#: between ``-``/``_`` (``--db-password``, ``client_secret``, ``API_KEY``).
_SECRET_PART = re.compile(
    rb"(?:^|[-_.])(?:pass|passwd|password|passphrase|pwd|secret|token|key|apikey|auth|credentials?|"
    rb"cookie|bearer|jwt|otp|private)(?:$|[-_.])",
    re.IGNORECASE,
)
#: user:password@ in a URL: the password goes, the user and host stay.
_URL_PASSWORD = re.compile(rb"([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)([^@/\s]+)(@)")
#: Programs whose ``-pSECRET`` is a password glued to its flag (mysql(1):
#: "--password[=password], -p[password]"), and sshpass's ``-p PASSWORD``.
_GLUED_P = re.compile(rb"^(mysql\w*|mariadb[\w-]*|mysqldump|mysqladmin|sshpass)$")
#: Flags whose next word is a secret for these programs (redis-cli -a, sshpass -p, curl -u user:pw).
_NEXT_IS_SECRET = {b"redis-cli": (b"-a",), b"sshpass": (b"-p",), b"curl": (b"-u", b"--user"), b"wget": (b"--password",)}
_WORDS = re.compile(rb"(\s+)")


def _secret_name(name: bytes) -> bool:
    return bool(_SECRET_PART.search(name.lstrip(b"-")))


def _program(first_word: bytes) -> bytes:
    return first_word.rsplit(b"/", 1)[-1]


class _Judge:
    """Walks the words of one command line in order; remembers a flag that takes the next word."""

    def __init__(self) -> None:
        self.program: bytes | None = None
        self.next_secret = False
        self.count = 0

    def word(self, word: bytes) -> bytes:
        if self.program is None:
            self.program = _program(word)
        if self.next_secret:
            self.next_secret = False
            if not word.startswith(b"-"):
                self.count += 1
                return MASK
        out = self._judge(word)
        if out is not word:
            self.count += 1
            return out
        url, found = _URL_PASSWORD.subn(rb"\1" + MASK + rb"\3", word)
        self.count += found
        return url

    def _judge(self, word: bytes) -> bytes:
        program = self.program or b""
        name, eq, value = word.partition(b"=")
        if eq and value and _secret_name(name):
            return name + b"=" + MASK  # --password=x, token=x, PGPASSWORD=x
        if not eq and word.startswith(b"-") and len(word) > 1:
            if _GLUED_P.match(program) and word.startswith(b"-p") and not word.startswith(b"--") and len(word) > 2:
                return b"-p" + MASK  # mysql -pSECRET
            if word in _NEXT_IS_SECRET.get(program, ()) or (word.startswith(b"--") and _secret_name(word)):
                self.next_secret = True  # --password x: the next word
        return word


def redact_argument(arg: bytes, judge: _Judge) -> bytes:
    parts = _WORDS.split(arg)
    # Odd places hold the whitespace, kept as it was.
    return b"".join(part if i % 2 or not part else judge.word(part) for i, part in enumerate(parts))


def redact_cmdline(raw: bytes, keep_arguments: bool) -> tuple[bytes, int, int]:
    """/proc/PID/cmdline with secrets masked: (bytes, values masked, arguments dropped).

    Without ``keep_arguments`` only argv[0] is kept (redacted too: it may be
    a whole command line, ``exec -a``); the count of arguments dropped is
    returned so the capture can say what it removed.
    """
    args = raw.split(b"\0")
    if args and not args[-1]:
        args.pop()  # the terminating NUL
    kept = args if keep_arguments else args[:1]
    dropped = sum(1 for a in args[len(kept):] if a)
    judge = _Judge()
    out = [redact_argument(arg, judge) for arg in kept]
    return (b"\0".join(out) + b"\0" if out else b""), judge.count, dropped
