#!/usr/bin/env python3
"""GPU metrics without a GPU: reads the machine code (SASS) of the fused kernels out of a built
object, library or executable, for every architecture it holds, and reports per kernel what a
profiler would blame first: registers, local memory (spills and stack), SASS size, shared-memory
loads and stores (LDS/STS) against generic ones (LD/ST, which the fused kernels' on-chip buffers
should never need), calls, branches, FFMA and HMMA counts, and for each hot inner loop (a back
edge whose body holds at least --min-ffma FFMAs and no other such loop) its instructions per FFMA
and the source line of its first FFMA.

Standard library only; needs cuobjdump and nvdisasm (bench/sass_report.sh finds or installs them).
`--check` turns the report into a gate: it exits 1 when a fused kernel uses a generic load or
store, touches local memory (a spill, or the stack frame of a call: SASS alone cannot tell them apart,
and the lean kernel should have neither), or has a GEMM loop above --max-instructions-per-ffma.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

INSTRUCTION = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")
LABEL = re.compile(r"^\s*(\.L_x_\d+):")
LINE_INFO = re.compile(r'//## File "([^"]+)", line (\d+)')
BRANCH_TARGET = re.compile(r"\bBRA\b(?:\.[A-Z.]+)?\s+(?:`\((\.L_x_\d+)\)|(\.L_x_\d+))")
FUNCTION = re.compile(r"^\s*\.text\.(\S+):")
RESOURCES = re.compile(r"Function ([^:\s]+):\s*(.*)")
PREDICATE = re.compile(r"^@!?U?P\w+\s+")


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"sass_report: {' '.join(command)} failed:\n{result.stderr.strip()}")
    return result.stdout


def demangle(names):
    if not names:
        return {}
    try:
        out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout
        return dict(zip(names, out.splitlines()))
    except OSError:
        return {n: n for n in names}


def opcode(text):
    """The opcode with its modifiers (`LDS.128`), the predicate guard removed."""
    return PREDICATE.sub("", text).split()[0]


def memory_class(op):
    """Which memory an access goes through, by opcode family (None for non-memory opcodes)."""
    base = op.split(".")[0]
    return {
        "LDS": "shared_load", "STS": "shared_store", "LDSM": "shared_load",
        "LD": "generic_load", "ST": "generic_store",
        "LDG": "global_load", "STG": "global_store",
        "LDL": "local_load", "STL": "local_store",
    }.get(base)


class Function:
    def __init__(self, name):
        self.name = name
        self.instructions = []  # (address, text, source line or None)
        self.labels = {}  # label -> index of the next instruction

    def counts(self):
        c = Counter()
        for _, text, _ in self.instructions:
            op = opcode(text)
            base = op.split(".")[0]
            memory = memory_class(op)
            if memory:
                c[memory] += 1
            if base in ("FFMA", "HMMA", "CALL", "BRA", "BAR", "MUFU", "SHFL"):
                c[base] += 1
        return c

    def hot_loops(self, min_ffma):
        """Innermost back edges whose body holds at least min_ffma FFMAs."""
        loops = []
        for end, (_, text, _) in enumerate(self.instructions):
            match = BRANCH_TARGET.search(PREDICATE.sub("", text))
            if not match:
                continue
            start = self.labels.get(match.group(1) or match.group(2))
            if start is None or start > end:
                continue
            body = self.instructions[start:end + 1]
            ffma = sum(1 for _, t, _ in body if opcode(t).startswith("FFMA"))
            if ffma >= min_ffma:
                loops.append((start, end, ffma))
        innermost = [l for l in loops
                     if not any(o != l and l[0] <= o[0] and o[1] <= l[1] for o in loops)]
        report = []
        for start, end, ffma in innermost:
            body = self.instructions[start:end + 1]
            memory = Counter(memory_class(opcode(t)) for _, t, _ in body)
            memory.pop(None, None)
            first_ffma_line = next((line for _, t, line in body if opcode(t).startswith("FFMA") and line), None)
            report.append({
                "start": f"0x{body[0][0]:x}",
                "source": first_ffma_line,
                "instructions": len(body),
                "ffma": ffma,
                "instructions_per_ffma": round(len(body) / ffma, 3),
                "memory": dict(memory),
            })
        return report


def disassemble(cubin):
    """Functions of one cubin, with labels and the innermost source line of each instruction."""
    text = run(["nvdisasm", "-c", "-g", cubin])
    functions, current, pending_labels, line = [], None, [], None
    for raw in text.splitlines():
        m = FUNCTION.match(raw)
        if m:
            current = Function(m.group(1))
            functions.append(current)
            pending_labels, line = [], None
            continue
        if current is None:
            continue
        m = LABEL.match(raw)
        if m:
            pending_labels.append(m.group(1))
            continue
        m = LINE_INFO.search(raw)
        if m:
            line = f"{os.path.basename(m.group(1))}:{m.group(2)}"
            continue
        m = INSTRUCTION.search(raw)
        if m:
            for label in pending_labels:
                current.labels[label] = len(current.instructions)
            pending_labels = []
            current.instructions.append((int(m.group(1), 16), m.group(2), line))
    return functions


def resources(cubin):
    out = run(["cuobjdump", "-res-usage", cubin])
    usage = {}
    for m in RESOURCES.finditer(out):
        fields = dict(re.findall(r"(\w+(?:\[\d+\])?):(\d+)", m.group(2)))
        usage[m.group(1)] = {k: int(v) for k, v in fields.items()}
    return usage


def report_for(binary, kernel_filter, min_ffma):
    listing = run(["cuobjdump", "-lelf", binary])
    elves = sorted(set(re.findall(r"ELF file\s+\d+:\s+(\S+\.cubin)", listing)))
    with tempfile.TemporaryDirectory() as work:
        binary = os.path.abspath(binary)
        subprocess.run(["cuobjdump", "-xelf", "all", binary], cwd=work, capture_output=True, check=True)
        kernels = []
        for elf in sorted(os.listdir(work)):
            if not elf.endswith(".cubin"):
                continue
            arch = re.search(r"(sm_\d+a?)", elf)
            path = os.path.join(work, elf)
            usage = resources(path)
            functions = [f for f in disassemble(path) if re.search(kernel_filter, f.name)]
            names = demangle([f.name for f in functions])
            for f in functions:
                u = usage.get(f.name, {})
                c = f.counts()
                kernels.append({
                    "architecture": arch.group(1) if arch else elf,
                    "object": elf,
                    "kernel": names.get(f.name, f.name),
                    "registers": u.get("REG"),
                    "stack_bytes": u.get("STACK"),
                    "local_bytes": u.get("LOCAL"),
                    "instructions": len(f.instructions),
                    "sass_bytes": 16 * len(f.instructions),
                    "counts": dict(c),
                    "hot_loops": f.hot_loops(min_ffma),
                })
    return {"binary": binary, "elves": elves, "kernels": kernels}


def problems(report, budget, gemm_sources):
    found = []
    for k in report["kernels"]:
        c = k["counts"]
        where = f"{short_name(k['kernel'])} ({k['architecture']})"
        generic = c.get("generic_load", 0) + c.get("generic_store", 0)
        if generic:
            found.append(f"{where}: {generic} generic loads/stores (on-chip buffers must be read as LDS/STS)")
        local = c.get("local_load", 0) + c.get("local_store", 0)
        if local or (k["local_bytes"] or 0):
            found.append(f"{where}: local memory ({local} LDL/STL, {k['local_bytes']} bytes): a spill or a stack frame")
        for loop in k["hot_loops"]:
            # Without line info (a build without -lineinfo) every hot loop is held to the budget.
            judged = loop["source"] is None or re.search(gemm_sources, loop["source"])
            if judged and loop["instructions_per_ffma"] > budget:
                found.append(f"{where}: loop at {loop['start']} ({loop['source']}) takes "
                             f"{loop['instructions_per_ffma']:.2f} instructions per FFMA, over {budget}")
    return found


def short_name(kernel):
    """`fused_epoch_kernel<4>` for `void hf::(anonymous namespace)::fused_epoch_kernel<4>(hf::FusedShape, ...)`."""
    m = re.search(r"(\w+(?:<[^<>()]*>)?)\(", kernel)
    return m.group(1) if m else kernel


def print_table(report, show_loops):
    print(f"SASS of {report['binary']}")
    header = f"{'arch':7} {'regs':>4} {'stack':>5} {'SASS KB':>8} {'LDS/STS':>9} {'LD/ST':>11} {'LDL/STL':>8} " \
             f"{'CALL':>5} {'BRA':>6} {'FFMA':>6} {'HMMA':>5} {'loops':>5} {'instr/FFMA':>17}  kernel"
    print(header)
    for k in report["kernels"]:
        c = k["counts"]
        per = [l["instructions_per_ffma"] for l in k["hot_loops"]]
        spread = f"{min(per):.2f}-{max(per):.2f}" if per else "-"
        print(f"{k['architecture']:7} {k['registers'] or 0:>4} {k['stack_bytes'] or 0:>5} {k['sass_bytes'] / 1024:>8.1f} "
              f"{c.get('shared_load', 0):>4}/{c.get('shared_store', 0):<4} "
              f"{c.get('generic_load', 0):>5}/{c.get('generic_store', 0):<5} "
              f"{c.get('local_load', 0):>3}/{c.get('local_store', 0):<4} {c.get('CALL', 0):>5} {c.get('BRA', 0):>6} "
              f"{c.get('FFMA', 0):>6} {c.get('HMMA', 0):>5} {len(per):>5} {spread:>17}  {short_name(k['kernel'])}")
        if show_loops:
            for loop in k["hot_loops"]:
                mem = " ".join(f"{n}={v}" for n, v in sorted(loop["memory"].items()))
                print(f"        loop {loop['start']:>8} {loop['source'] or '?':28} {loop['instructions']:>5} instr "
                      f"{loop['ffma']:>4} FFMA {loop['instructions_per_ffma']:>5.2f}/FFMA  {mem}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary", help="object, static library or executable holding the CUDA kernels")
    parser.add_argument("--kernels", default="fused", help="regular expression on the mangled kernel names (default: fused)")
    parser.add_argument("--min-ffma", type=int, default=16, help="FFMAs a loop body needs to count as hot (default 16)")
    parser.add_argument("--loops", action="store_true", help="list every hot loop under its kernel")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 on a generic load/store, local memory, or a hot loop over budget")
    parser.add_argument("--max-instructions-per-ffma", type=float, default=1.4,
                        help="budget of the GEMM tiles' hot loops (default 1.4)")
    parser.add_argument("--gemm-sources", default="fused_tiles",
                        help="regular expression on a loop's source file:line that makes it a GEMM loop held to the "
                             "budget (default: fused_tiles); other hot loops are listed, not judged")
    args = parser.parse_args()

    report = report_for(args.binary, args.kernels, args.min_ffma)
    if not report["kernels"]:
        sys.exit(f"sass_report: no kernel matching '{args.kernels}' in {args.binary} (ELFs: {report['elves']})")
    print_table(report, args.loops)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=1)
    found = problems(report, args.max_instructions_per_ffma, args.gemm_sources)
    if found:
        print(f"\n{len(found)} finding(s) against the lean-kernel budget:")
        for f in found[:40]:
            print(f"  {f}")
        if len(found) > 40:
            print(f"  ... and {len(found) - 40} more")
    if args.check and found:
        sys.exit(1)


if __name__ == "__main__":
    main()
