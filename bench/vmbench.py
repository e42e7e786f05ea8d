"""vmbench - what bench/boot and bench/vmm-rss share.

Owns: where a benchmark runs (directly on hardware-virtualization KVM, else re-executed
inside tests/testhost/run), the guest under test (the cloud kernel plus a busybox
initramfs whose /init writes a marker to the serial console first thing), the three
VMMs compared (kvrun vm, QEMU -M microvm with ACPI, QEMU -M q35) with the same kernel,
initramfs, command line, vCPUs and memory, and starting one of them while timestamping
its console output.

Every figure is relative: inside the test host the guest runs under TCG, so only ratios
between VMMs measured in the same run mean anything.
"""

import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = b"KVRUN-BENCH-INIT"
UPTIME_TAG = b"KVRUN-BENCH-UPTIME"
INSIDE_ENV = "KVRUN_BENCH_IN_TESTHOST"
STATUS_ENV = "KVRUN_BENCH_STATUS_FILE"
STATUS_GRACE_S = 60
VMMS = ("kvrun", "qemu-microvm", "qemu-q35")


def die(prog, msg, status=1):
    print(f"{prog}: {msg}", file=sys.stderr)
    sys.exit(status)


def cache_dir():
    return os.environ.get("KVRUN_CACHE") or os.path.join(TOP, "build", "cache")


def default_kernel():
    return os.path.join(cache_dir(), "guest-kernel", "vmlinuz")


def default_kvrun():
    return os.path.join(TOP, "build", "release", "runtime", "kvrun")


def where_to_run(prog, argv, timeout, mem_mib=None):
    """Return when this process may use /dev/kvm; otherwise run the benchmark inside the
    test host (with mem_mib of RAM, when given) and exit with its status (never returns)."""
    if os.environ.get(INSIDE_ENV) == "1":
        return
    probe = os.path.join(TOP, "build", "release", "tests", "kvm-selftest")
    r = subprocess.run(
        [os.path.join(TOP, "tests", "testhost", "needs-kvm"), "--describe", "--probe", probe],
        stdout=subprocess.PIPE,
        text=True,
    )
    print(f"# {r.stdout.strip()}", flush=True)
    if r.returncode == 0:
        return
    sys.exit(run_in_testhost(argv, timeout, mem_mib))


def run_in_testhost(argv, timeout, mem_mib=None):
    """Run this script with argv inside tests/testhost/run; return its exit status.

    The inner run writes its status to a file in the (read-write, shared) checkout when
    it ends. tests/testhost/run has been seen not to return after its command and QEMU
    had exited (its `wait -n` then waits for the timeout): when the status file has been
    there for STATUS_GRACE_S, the run is stopped and the inner status returned."""
    os.makedirs(os.path.join(TOP, "build"), exist_ok=True)
    sdir = tempfile.mkdtemp(prefix=".bench-status.", dir=os.path.join(TOP, "build"))
    status_file = os.path.join(sdir, "status")
    env = dict(os.environ, **{INSIDE_ENV: "1", STATUS_ENV: status_file})
    run = os.path.join(TOP, "tests", "testhost", "run")
    script = os.path.abspath(sys.argv[0])
    # The cwd must be visible inside the test host (not /tmp).
    mem = ["--mem", str(mem_mib)] if mem_mib else []
    p = subprocess.Popen(
        [run, "--timeout", str(timeout)] + mem + ["--", sys.executable, script] + argv, cwd=TOP, env=env
    )
    ended = None
    rc = None
    try:
        while rc is None:
            try:
                rc = p.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            if rc is None and ended is None and _read_status(status_file) is not None:
                ended = time.monotonic()
            if rc is None and ended is not None and time.monotonic() - ended > STATUS_GRACE_S:
                print(
                    f"# tests/testhost/run still running {STATUS_GRACE_S} s after the benchmark "
                    f"ended: stopped it (pid {p.pid})",
                    file=sys.stderr,
                    flush=True,
                )
                p.terminate()
                p.wait()
                break
        inner = _read_status(status_file)
    finally:
        shutil.rmtree(sdir, ignore_errors=True)
    return inner if inner is not None else rc


def _read_status(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def finish(status):
    """End a benchmark: report status to a caller outside the test host, if any."""
    path = os.environ.get(STATUS_ENV)
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(f"{status}\n")
        os.rename(path + ".tmp", path)
    return status


def check_inputs(prog, kvrun, kernel, busybox):
    if not (os.path.isfile(kvrun) and os.access(kvrun, os.X_OK)):
        die(prog, f"{kvrun} is not built (make build)")
    if not os.path.isfile(kernel):
        die(prog, f"no guest kernel at {kernel} (make guest)")
    if not os.path.isfile(busybox):
        die(prog, f"no static busybox at {busybox} (apt-get install busybox-static)")
    for q in ("qemu-system-x86_64",):
        if shutil.which(q) is None:
            die(prog, f"{q} not found (apt-get install qemu-system-x86)")


# --- the guest ------------------------------------------------------------------------

# /init writes the marker before anything else, so the harness sees the earliest moment
# userspace runs; then the guest's own uptime, then what the mode asks for.
INIT_HEAD = """#!/bin/busybox sh
echo KVRUN-BENCH-INIT
/bin/busybox mount -t proc proc /proc
read up idle </proc/uptime
echo "KVRUN-BENCH-UPTIME $up"
"""
INIT_TAIL = {
    "poweroff": "exec /bin/busybox poweroff -f\n",
    "dmesg": "/bin/busybox dmesg\n/bin/busybox cat /proc/cmdline\nexec /bin/busybox poweroff -f\n",
    "idle": "exec /bin/busybox sleep 1000000\n",
}


def _cpio_entry(name, mode, data=b"", ino=1):
    """One newc cpio member (the format the kernel unpacks an initramfs from)."""
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = hdr + name_b
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def build_initramfs(path, busybox, mode):
    """Write an uncompressed newc initramfs: /bin/busybox, /proc and the /init script."""
    with open(busybox, "rb") as f:
        bb = f.read()
    init = (INIT_HEAD + INIT_TAIL[mode]).encode()
    parts = [
        _cpio_entry("bin", 0o040755, ino=1),
        _cpio_entry("bin/busybox", 0o100755, bb, ino=2),
        _cpio_entry("proc", 0o040755, ino=3),
        _cpio_entry("dev", 0o040755, ino=4),
        _cpio_entry("init", 0o100755, init, ino=5),
        _cpio_entry("TRAILER!!!", 0, ino=0),
    ]
    with open(path, "wb") as f:
        f.write(b"".join(parts))


def extract_vmlinux(bzimage, out):
    """Unpack the ELF kernel from a bzImage's payload with rootfs/extract-vmlinux."""
    tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rootfs", "extract-vmlinux")
    r = subprocess.run([tool, bzimage, out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip() or f"{tool} failed with status {r.returncode}")


class Guest:
    """The files and parameters every VMM boots with. The kernel is copied into workdir
    (tmpfs inside the test host) so no VMM reads it over the test host's 9p mounts."""

    def __init__(self, kernel, cpus, memory_mib, cmdline, workdir, busybox, mode):
        self.kernel = os.path.join(workdir, os.path.basename(kernel))
        if os.path.abspath(kernel) != self.kernel:
            shutil.copyfile(kernel, self.kernel)
        self.kvrun_kernel = self.kernel  # what kvrun boots (bench/boot --kvrun-vmlinux)
        self.cpus = cpus
        self.memory_mib = memory_mib
        self.cmdline = cmdline
        self.initrd = os.path.join(workdir, f"initramfs-{mode}.cpio")
        build_initramfs(self.initrd, busybox, mode)


# microvm with ACPI tables (like kvrun), no legacy PIT/RTC (kvrun has neither), no option
# ROMs; its ISA serial port is COM1.
MICROVM_MACHINE = "microvm,acpi=on,pit=off,rtc=on,x-option-roms=off"


def warm_up(kvrun):
    """Load each VMM's binary, libraries and firmware once, so that the first timed round
    does not pay for reading them (over 9p inside the test host) and later ones do not."""
    subprocess.run([kvrun, "vm", "--help"], stdout=subprocess.DEVNULL)
    subprocess.run(["qemu-system-x86_64", "--version"], stdout=subprocess.DEVNULL)
    for d in ("/usr/share/qemu", "/usr/share/seabios"):
        for root, _, files in os.walk(d):
            for f in files:
                try:
                    with open(os.path.join(root, f), "rb") as fh:
                        while fh.read(1 << 20):
                            pass
                except OSError:
                    pass


def vmm_command(name, guest, kvrun, microvm_machine=MICROVM_MACHINE, kvrun_args=()):
    """argv for one VMM. Serial console (COM1, ttyS0) on stdout in every case."""
    if name == "kvrun":
        return [
            kvrun, "vm",
            "--kernel", guest.kvrun_kernel,
            "--initrd", guest.initrd,
            "--cmdline", guest.cmdline,
            "--cpus", str(guest.cpus),
            "--memory", f"{guest.memory_mib}M",
            "--serial", "stdio",
        ] + list(kvrun_args)  # fmt: skip
    machine = {
        "qemu-microvm": microvm_machine,
        "qemu-q35": "q35",
    }[name]
    return [
        "qemu-system-x86_64",
        "-M", machine,
        "-enable-kvm", "-cpu", "host",
        "-smp", str(guest.cpus), "-m", f"{guest.memory_mib}M",
        "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
        "-serial", "stdio",
        "-kernel", guest.kernel,
        "-initrd", guest.initrd,
        "-append", guest.cmdline,
    ]  # fmt: skip


# --- running one VMM -------------------------------------------------------------------


class Run:
    """One VMM process: its console output with arrival times (ns since just before
    the process was started)."""

    def __init__(self, argv, stderr_path):
        self.argv = argv
        self.chunks = []  # (t_ns, bytes)
        self.output = bytearray()
        self.t_marker = None
        self.t_exit = None
        self.status = None
        self._scan = 0
        self._err = open(stderr_path, "wb")
        self.stderr_path = stderr_path
        self.t0 = time.monotonic_ns()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err
        )
        self.pid = self.proc.pid
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)

    def _read(self, deadline_ns):
        """Read what is there, waiting until deadline_ns. False at EOF."""
        wait = max(0, deadline_ns - time.monotonic_ns()) / 1e9
        r, _, _ = select.select([self._fd], [], [], wait)
        if not r:
            return True
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return True
        now = time.monotonic_ns() - self.t0
        if not data:
            return False
        self.chunks.append((now, data))
        self.output += data
        if self.t_marker is None:
            i = self.output.find(MARKER, max(0, self._scan - len(MARKER)))
            if i >= 0:
                self.t_marker = now
            self._scan = len(self.output)
        return True

    def wait_marker(self, timeout_s):
        deadline = self.t0 + int(timeout_s * 1e9)
        while self.t_marker is None and time.monotonic_ns() < deadline:
            if not self._read(deadline):
                break
        return self.t_marker is not None

    def drain(self, seconds):
        """Keep reading the console for seconds (the guest is left running). False when
        the process exited meanwhile."""
        deadline = time.monotonic_ns() + int(seconds * 1e9)
        while time.monotonic_ns() < deadline:
            if not self._read(deadline):
                return False
        return True

    def wait_exit(self, timeout_s):
        deadline = self.t0 + int(timeout_s * 1e9)
        while time.monotonic_ns() < deadline:
            if not self._read(deadline):
                break
        else:
            self.kill()
            return False
        self.status = self.proc.wait()
        self.t_exit = time.monotonic_ns() - self.t0
        self._err.close()
        return True

    def stop(self, timeout_s=30):
        """SIGTERM (both kvrun and QEMU stop cleanly on it), then wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        ok = self.wait_exit(timeout_s)
        return ok

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.status = self.proc.wait()
        self._err.close()

    def guest_uptime(self):
        """The guest's /proc/uptime at /init, in seconds, or None."""
        i = self.output.find(UPTIME_TAG)
        if i < 0:
            return None
        line = self.output[i + len(UPTIME_TAG) :].split(b"\n", 1)[0]
        try:
            return float(line.strip().decode())
        except ValueError:
            return None

    def stderr_tail(self, n=5):
        try:
            with open(self.stderr_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-n:])


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def workdir():
    return tempfile.mkdtemp(prefix="kvrun-bench.")


# --- memory ----------------------------------------------------------------------------

SMAPS_FIELDS = ("Size", "Rss", "Pss", "Private_Clean", "Private_Dirty", "Swap")


def read_smaps(pid):
    """The mappings of process pid: a list of dicts with 'range', 'perms', 'path' and the
    SMAPS_FIELDS in KiB."""
    maps = []
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(None, 5)
            if head and "-" in head[0] and ":" not in head[0]:
                cur = {
                    "range": head[0],
                    "perms": head[1],
                    "path": head[5].strip() if len(head) > 5 else "",
                }
                cur.update({k: 0 for k in SMAPS_FIELDS})
                maps.append(cur)
                continue
            key, _, rest = line.partition(":")
            if cur is not None and key in SMAPS_FIELDS:
                cur[key] = int(rest.split()[0])
    return maps


def guest_ram_mappings(vmm, maps, memory_mib):
    """The mappings that hold guest RAM. kvrun's is its file 'kvrun-guest-ram' (a memfd, or
    an unlinked file on its private huge-page tmpfs: '/kvrun-guest-ram (deleted)'). QEMU's
    default RAM block is an anonymous mapping of exactly the -m size (q35 maps its low and
    high RAM as aliases of that one block); its firmware and option-ROM blocks are small
    separate mappings and are counted as VMM overhead."""
    if vmm == "kvrun":
        names = ("/memfd:kvrun-guest-ram", "/kvrun-guest-ram")
        return [m for m in maps if m["path"].startswith(names)]
    size = memory_mib * 1024
    return [m for m in maps if m["path"] == "" and size <= m["Size"] <= size + 4096]


def sum_field(maps, field):
    return sum(m[field] for m in maps)


def categorize(m):
    p = m["path"]
    if p == "" or p.startswith("[anon") or p in ("[heap]",):
        return "anon+heap"
    if p.startswith("[stack"):
        return "stack"
    if p.startswith("["):
        return "kernel(" + p.strip("[]") + ")"
    if p.startswith(("/memfd:", "/dev/", "/kvrun-guest-ram")):
        return "shm/dev"
    if p.startswith("anon_inode:"):
        return "kvm"
    return "file"


def run_main(main, argv):
    """sys.exit(run_main(main, argv)): main's status, also reported by finish()."""
    status = 1
    try:
        status = main(argv)
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
        raise
    finally:
        finish(status)
    return status
