"""scripts/demo.sh end to end, as the README's first command runs it but on the existing build:
the real collector (port 0, state in a temporary directory), the real agent replaying the
generated sample over HTTPS, and the counts the collector's API reports.

The expected counts are computed here, apart from the demo: the sample's events as
`tier0watch scan` counts them and the alerts `tier0watch scan --pack` raises with the same pack
(the built-in tier0 pack of this tree, which the demo's agent runs). Only loopback networking is
used.

usage: demo_test.py BUILD_DIR
"""
import os
import re
import subprocess
import sys
import tempfile


def main():
    build_dir = os.path.abspath(sys.argv[1])
    tier0watch = os.path.join(build_dir, "agent", "tier0watch")
    pack = os.path.join("packs", "tier0")
    with tempfile.TemporaryDirectory(prefix="t0w-demo-test-") as work:
        env = dict(os.environ, BUILD_DIR=build_dir, DEMO_DIR=work, DEMO_EXIT="1",
                   DEMO_SKIP_BUILD="1", T0W_DEMO_PORT="0", DEMO_TIMEOUT="300")
        demo = subprocess.run(["bash", "scripts/demo.sh"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=900)
        out = demo.stdout
        if demo.returncode != 0:
            sys.stderr.write(out[-3000:] + "\n--- stderr ---\n" + demo.stderr[-3000:])
            raise AssertionError("demo.sh exited %d" % demo.returncode)

        sample = os.path.join(work, "dc01-sample.xml")
        scan = subprocess.run([tier0watch, "scan", sample], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, check=True)
        m = re.search(r"scan: 1 files, (\d+) records, 0 errors", scan.stderr)
        assert m, "unexpected scan summary: %r" % scan.stderr
        expected_events = int(m.group(1))
        alerts = subprocess.run([tier0watch, "scan", "--pack", pack, sample],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                check=True)
        expected_alerts = len(alerts.stdout.splitlines())
        assert expected_events > 0 and expected_alerts > 0, (expected_events, expected_alerts)

        m = re.search(r"^demo: collector API: (\d+) events, (\d+) alerts", out, re.M)
        assert m, "no collector API line in the demo's output:\n" + out[-2000:]
        got = (int(m.group(1)), int(m.group(2)))
        assert got == (expected_events, expected_alerts), \
            "collector API has %s, expected %s" % (got, (expected_events, expected_alerts))

        # The agent really shipped them: its log names the sample as read to its end.
        with open(os.path.join(work, "agent", "agent.log")) as f:
            agent_log = f.read()
        assert "read to its end" in agent_log, agent_log[-2000:]

        with open(os.path.join(work, "collector", "admin.password")) as f:
            password = f.read().strip()
        assert re.search(r"^Dashboard: https://127\.0\.0\.1:\d+/", out, re.M), out[-2000:]
        assert ("Login:     admin / " + password) in out, out[-2000:]
        # DEMO_EXIT=1 stops the collector it started.
        assert not os.path.exists(os.path.join(work, "collector", "collector.pid"))
        print("demo: %d events and %d alerts in the collector" % got)
    return 0


if __name__ == "__main__":
    sys.exit(main())
