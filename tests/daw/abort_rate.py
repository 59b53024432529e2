"""The long run behind docs/daw.md: how often Ardour's headless bounce dies with Rosin, and with
Ardour's own instrument (ACE Reasonable Synth, LV2) as the control, each bounce in a fresh
process on the same one-track session and MIDI.

  .venv/bin/python tests/daw/abort_rate.py --bounces 50                 # Rosin.vst3 and the control
  .venv/bin/python tests/daw/abort_rate.py --bounces 20 --only rosin \\
      --bundle /path/to/asan/Rosin.vst3 --preload /usr/lib/x86_64-linux-gnu/libasan.so.8

With --preload (an AddressSanitizer build of the plugin and the matching runtime), every run's
log is searched for AddressSanitizer reports, which are counted and printed with their first
frames. Logs stay in --work (default: a new temporary folder).
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_ardour as T  # noqa: E402

CONTROL = ("ACE Reasonable Synth", "LV2")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bounces", type=int, default=50)
    ap.add_argument("--only", choices=["rosin", "control"])
    ap.add_argument("--bundle", default=str(T.ROOT / "target" / "bundled" / "Rosin.vst3"))
    ap.add_argument("--preload", help="a library to LD_PRELOAD into Ardour (e.g. libasan)")
    ap.add_argument("--midi", default=str(T.ROOT / "demo" / "strings-demo.mid"))
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="rosin-abort-rate-"))
    instruments = [("rosin", ("Rosin", "VST3")), ("control", CONTROL)]
    results = {}
    for label, (plugin, kind) in instruments:
        if args.only and args.only != label:
            continue
        home = work / label
        home.mkdir(parents=True, exist_ok=True)
        ardour = T.Ardour(home)
        if args.preload:
            # The scanner and every session process load the plugin: all need the runtime.
            ardour.env.update(LD_PRELOAD=args.preload,
                              ASAN_OPTIONS="detect_leaks=0:halt_on_error=0:detect_odr_violation=0")
        if kind == "VST3":
            ardour.install(Path(args.bundle))
        else:
            (ardour.home / ".config" / "ardour7" / "export").mkdir(parents=True, exist_ok=True)
            for f in (T.HERE / "export").iterdir():
                (ardour.home / ".config" / "ardour7" / "export" / f.name).write_bytes(f.read_bytes())
        env = T.session_env(home)
        (home / "out").mkdir(exist_ok=True)
        ardour.lua("session.lua", "create", RATE=str(T.RATE), PLUGIN=plugin, PLUGIN_TYPE=kind, TRACKS="Violins",
                   **env)
        subprocess.run([sys.executable, str(T.HERE / "import_midi.py"), env["SESSION_DIR"], env["SESSION_NAME"],
                        args.midi, "1", "Violins", "--flatten-tempo"], check=True, capture_output=True)
        run_env = dict(ardour.env, **env)
        died, asan_reports, hung_at_exit, started = [], [], [], time.monotonic()
        for k in range(1, args.bounces + 1):
            out_file = home / "out" / f"b{k}.wav"
            log = ardour.logs / f"bounce-{k}.log"
            try:
                run = subprocess.run([str(T.LUASESSION), str(T.HERE / "lua" / "bounce.lua")],
                                     env=dict(run_env, EXPORT_NAME=f"b{k}"), capture_output=True, text=True,
                                     timeout=150)
                text, rc = run.stdout + run.stderr, run.returncode
            except subprocess.TimeoutExpired as e:
                text = "".join(x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
                               for x in (e.stdout, e.stderr))
                # A process that exported and then hung at exit (seen with a preloaded sanitizer
                # runtime, in glibc's locale lock) bounced fine.
                rc = 0 if "exported\ttrue" in text or "exported true" in text else -9999
                if rc == 0:
                    hung_at_exit.append(k)
            log.write_text(text)
            if rc != 0 or not out_file.exists():
                first = next((line for line in text.splitlines()
                              if re.search(r"free\(\)|corruption|munmap|signal|Segmentation|Abort", line)), "")
                died.append((k, rc, first.strip()))
                print(f"{label} bounce {k}: exit {rc} {first.strip()}", flush=True)
            for m in re.finditer(r"ERROR: AddressSanitizer: .*?(?=\n\n|\Z)", text, re.S):
                asan_reports.append((k, m.group(0)[:1500]))
            if out_file.exists():
                out_file.unlink()
        results[label] = (len(died), args.bounces, died, asan_reports, time.monotonic() - started, hung_at_exit)
    for label, (n, total, died, reports, seconds, hung) in results.items():
        print(f"{label}: {n} of {total} bounces died ({seconds:.0f} s); {len(reports)} AddressSanitizer reports; "
              f"{len(hung)} exported and then hung at exit (killed)")
        for k, report in reports[:5]:
            print(f"--- bounce {k}:\n{report}")
    print(f"logs: {work}")


if __name__ == "__main__":
    main()
