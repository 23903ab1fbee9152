"""What the bench scripts read about a process, and the agent they all start on a trace file."""
import contextlib
import os
import subprocess


def cpu_seconds(pid):
    """User + system CPU of the process so far (/proc/<pid>/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_mib(pid, field):
    """A size line of /proc/<pid>/status in MiB: "VmRSS" now, "VmHWM" the peak."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def private_mib(pid):
    """Pages of the process alone (USS: Private_Clean + Private_Dirty, /proc/<pid>/smaps_rollup)
    in MiB. RSS also counts clean pages of shared libraries mapped from the page cache, which
    two processes linking the same libraries share; this is what the process itself costs."""
    total = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total / 1024.0


def psql(sql):
    """One statement on the throwaway PostgreSQL server (T0W_PG_URL), as its owner."""
    bindir = next(d for d in sorted(os.listdir("/usr/lib/postgresql"))[::-1])
    subprocess.run([os.path.join("/usr/lib/postgresql", bindir, "bin", "psql"), "-q", "-v",
                    "ON_ERROR_STOP=1", os.environ["T0W_PG_URL"], "-c", sql], check=True)


@contextlib.contextmanager
def fresh_database(name):
    """A database of its own on the throwaway PostgreSQL server for one run: created empty
    (dropped first if a run before left it), dropped after. Yields its conninfo."""
    psql("DROP DATABASE IF EXISTS %s" % name)
    psql("CREATE DATABASE %s" % name)
    try:
        yield os.environ["T0W_PG_URL"] + " dbname=" + name
    finally:
        psql("DROP DATABASE %s WITH (FORCE)" % name)


def start_tracefile_agent(build, work, collector, token, folder, extra=""):
    """`tier0watch run` with the defaults a user gets (but for the log level and the periodic
    metrics line) tailing folder/trace-*.log into `collector`; state and log under `work`."""
    cfg = os.path.join(work, "agent.yaml")
    with open(cfg, "w") as f:
        f.write("agent: {state_dir: %s/state, log_level: warn}\n" % work)
        f.write("collector: {url: \"%s\", ca_bundle: %s, token_file: %s}\n" %
                (collector.url, collector.ca, token))
        f.write("metrics: {log_interval_ms: 0}\n")
        f.write("sources:\n  - tracefile: {path: %s/trace-*.log}\n" % folder)
        f.write(extra)
    return subprocess.Popen([os.path.join(build, "agent", "tier0watch"), "run", "--config", cfg],
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "agent.log"), "w"))
