"""Peak resident memory of a child process, measured so that the parent's size cannot leak into it.

``wait4``/``getrusage`` report ``ru_maxrss``, which Linux carries across ``exec``: a child spawned (by fork
or vfork) from a large pytest process starts with the parent's high-water mark, so a 200 MiB test runner makes
every child look 200 MiB big, and a child's real growth can hide below that mark (a bound that cannot fail).
``VmHWM`` in ``/proc/self/status`` belongs to the address space the child got at ``exec``, so it is the
child's own peak. Tests that bound memory read it from inside the child with :data:`PEAK_KIB_SOURCE`.
"""

from __future__ import annotations

PEAK_KIB_SOURCE = '''
def peak_kib():
    """VmHWM of this process in KiB (its own address space only)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory cannot be measured here")
'''
