"""Live caption latency through a real Daphne server: N instructors stream speech, M viewers each.

    .venv/bin/python -m bench.caption_latency --instructors 1,2,4 \\
        --viewers 1,100,500 --compare-offline --markdown

What one configuration (N instructors x M viewers per lecture) does:
- creates N courses, each with an instructor, M enrolled students and a live lecture, and a
  session cookie for every user (ORM work in this process, on the server's database);
- starts a fresh Daphne process (or uses `--url`), opens M viewer sockets per lecture, then one
  broadcaster socket per lecture that sends `start`, streams a ~60 s English lecture made by
  espeak-ng in 100 ms PCM16 frames at real-time pace, sends `stop` and reads `stopped`;
- records the arrival time of every `final` at every viewer. The latency of a final is its
  arrival minus the wall time its audio ended: arrival - (t0 + (end_ms - offset_ms) / 1000),
  where t0 is when the broadcaster's frame 0 was sent (frame k is sent at t0 + k * 0.1 s) and
  offset_ms comes from `started`;
- "first words": for each final, the first non-empty partial that arrived after the previous
  final (or the final itself if none did), minus the wall time that caption's audio began;
- after the run, compares each viewer's received seqs with the lecture's stored
  TranscriptSegment seqs: lost = stored but never received, duplicated = received twice.

Each lecture gets the same sentences, rotated (lecture i of N starts at sentence i*S/N) so that
concurrent lectures do not pause and finish sentences at the same instants. Before each measured
run a short warm-up broadcast on another lecture loads the Whisper model into the server.

Under load (issue 13): `--cpu-hog 0,1,2` runs every configuration once per value, each with
that many processes burning one core each beside the server (`hearus_testkit.cpu_hogs`:
started after the wait for a quiet machine, before the warm-up broadcast, killed by PID after
the measurement). A second table gives, per configuration, the 1-minute load average before
and after, p50/p95/max latency, words lost (reference words no stored final carries: the
deletions of the alignment), speech regions skipped (Silero VAD regions of the streamed audio
no stored final overlaps), the words the server's filters dropped (hallucinations, loops,
prompt echoes: its `hearus_caption_dropped_words` metric, read from /metrics before and after),
server CPU seconds per audio second, and the largest "captions delayed" notice viewers saw.

Any audio: `--audio FILE` (anything PyAV decodes) streams that file instead of the espeak
lecture; `--reference TEXT_FILE` gives what was said (for error rates and words lost) and
`--language` the course language.

Databases: a fresh SQLite file under var/bench/ by default; `--database-url postgres://...`
creates that (scratch, named hearus_bench*) database and drops it at the end. `--redis-url`
selects Redis for the channel layer and cache (a numbered db other than 0; flushed first and
last). With `--url` the server is yours: its database must be `--database-url`, nothing is
created or dropped, and its CPU is reported only with `--server-pid`.

The modules, in the order a run uses them: `lecture` (the speech), `database` and `fixtures`
(the server's environment, users and lectures), `server` and `machine` (the Daphne process, CPU
accounting), `clients` and `measure` (the sockets and one measured run), `results` and
`baseline` (figures per configuration, whole-file ASR), `report` (tables, markdown), `cli`.
"""

from hearus_testkit import ROOT

BENCH_DIR = ROOT / "var" / "bench"
LATENCY_TARGET_S = 3.0
# Issue 13's target beside one busy core (`--cpu-hog 1`): finals late but bounded, none skipped.
LOAD_TARGET_P95_S = 5.0
LOAD_TARGET_MAX_S = 10.0
