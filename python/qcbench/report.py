"""Writing the generated parts of docs/, and naming the machine they ran on."""
import os
import platform
import re


def cpu_name():
    return next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                 if l.startswith("model name")), platform.processor())


def cpu_flags():
    """The CPU's feature flags (/proc/cpuinfo)."""
    return next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo")
                 if l.startswith("flags")), [])


def write_generated(path, writer, lines, note=""):
    """Writes `lines` into the file `path` between the markers of `writer`
    (a script's path, e.g. bench/compare.py; `note` follows it in the begin
    marker), keeping the text around them; appends them (with the markers)
    when the file has none yet."""
    begin = f"<!-- begin: written by {writer}{note}; do not edit -->"
    end = f"<!-- end: {writer} -->"
    body = "\n".join([begin] + lines + [end])
    old = open(path).read() if os.path.exists(path) else ""
    m = re.search(re.escape(f"<!-- begin: written by {writer}") + r".*?" + re.escape(end),
                  old, re.S)
    text = old[:m.start()] + body + old[m.end():] if m else old + body + "\n"
    with open(path, "w") as f:
        f.write(text)


def emit(lines, report=None, json_path=None, data=None):
    """Prints a markdown table's `lines`, and writes them to `report` and
    `data` as JSON to `json_path` (each when given)."""
    import json
    print("\n".join(lines))
    if report:
        with open(report, "w") as f:
            f.write("\n".join(lines) + "\n")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(data, f, indent=1)

