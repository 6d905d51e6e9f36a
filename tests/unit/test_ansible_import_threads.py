"""ansible-runner is imported on first use; `serve --workers N` starts runs from several
threads, and a thread that got past the import while another was still importing the package
found `ansible_runner.plugins` still bound to its subpackage ("'module' object is not
iterable" when the run started). integrations/ansible.py imports it under a lock."""

from __future__ import annotations

import subprocess
import sys

# Threads starting 10 ms apart, in a fresh interpreter (the import must be a first one), each
# looking at what `ansible_runner.plugins` is once it has the runner API.
SCRIPT = """
import sys, threading, time
from orchestrator.integrations import ansible
seen = []
def work(delay):
    time.sleep(delay)
    ansible._init_runner()
    seen.append(type(sys.modules["ansible_runner"].plugins).__name__)
threads = [threading.Thread(target=work, args=(n * 0.01,)) for n in range(60)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(",".join(sorted(set(seen))), len(seen))
"""


def test_every_thread_finds_the_plugin_dict_after_a_first_import() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["dict", "60"], result.stdout
