"""Summarise `bench/stage_rss` samples: each process's peak RSS per stage, and the moment the sum peaked.

python bench/stage_rss/report.py /tmp/rss
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path


def label(stage: str) -> str:
    """A driver stage's fused name cut down to its transforms' top-level names."""
    if stage.startswith("D:"):
        names = re.findall(r"ref_AppliedPTransform_([A-Za-z0-9]+-[A-Za-z0-9]+)", stage)
        return "driver: " + ",".join(sorted(set(names))) if names else "driver: " + stage[2:80]
    return stage[:150]


def main(folder: str) -> None:
    by_time: dict[int, dict[str, int]] = defaultdict(dict)
    for path in sorted(Path(folder).glob("rss-*.txt")):
        lines = path.read_text().splitlines()
        peaks: dict[str, int] = {}
        for line in lines:
            if line.startswith("#"):
                continue
            when, rss, stage = line.split(" ", 2)
            peaks[label(stage)] = max(peaks.get(label(stage), 0), int(rss))
            by_time[round(float(when) * 2)][path.stem] = int(rss)
        print(f"== {path.stem} {lines[0][2:80] if lines else ''}")
        for stage, rss in peaks.items():
            print(f"  {rss:6d} MB  {stage}")
    if by_time:
        when, processes = max(by_time.items(), key=lambda kv: sum(kv[1].values()))
        print(f"summed peak {sum(processes.values())} MB: {dict(sorted(processes.items()))}")


if __name__ == "__main__":
    main(sys.argv[1])
