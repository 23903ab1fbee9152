"""Every process an integration test starts (agents, real and fake collectors) ends when the test
process exits, passed or failed: left behind they run on for minutes (seen: dozens of collectors
and fake collectors after one ctest run, and an agent retrying its dead collector for 13 minutes
after a failed CI run)."""
import atexit

_STARTED = []


def track(proc):
    """Registers a subprocess.Popen to be killed at exit if it still runs; returns it."""
    _STARTED.append(proc)
    return proc


@atexit.register
def _end_started():
    for proc in _STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
