#!/usr/bin/env python3
"""What the bytes of a WASM module are: its functions' code, tallied by name.

Reads the code section and the `name` custom section of wasm-bindgen's output made with
`--keep-debug` (`make wasm-profile` makes it; without the flag, and after wasm-opt, the
names are gone). The code is measured before wasm-opt, so the shares are what to shrink,
not the bytes shipped.

    scripts/wasm-profile.py MODULE.wasm [--top N] [--group PATTERN ...]

Prints the sections, the largest functions (alone, then with all their instances), and
the share of code whose name mentions each group (a name can count in several groups).
"""
import argparse
import re
import sys
from collections import Counter


def leb(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def sections(data):
    assert data[:4] == b"\0asm", "not a WASM module"
    pos = 8
    while pos < len(data):
        kind = data[pos]
        size, start = leb(data, pos + 1)
        yield kind, data[start:start + size]
        pos = start + size


def imported_functions(body):
    count, pos = leb(body, 0)
    functions = 0
    for _ in range(count):
        for _ in range(2):  # module and field names
            length, pos = leb(body, pos)
            pos += length
        kind = body[pos]
        pos += 1
        if kind == 0:  # function: type index
            _, pos = leb(body, pos)
            functions += 1
        elif kind == 1:  # table: reftype, limits
            pos += 1
            flags, pos = leb(body, pos)
            _, pos = leb(body, pos)
            if flags & 1:
                _, pos = leb(body, pos)
        elif kind == 2:  # memory: limits
            flags, pos = leb(body, pos)
            _, pos = leb(body, pos)
            if flags & 1:
                _, pos = leb(body, pos)
        elif kind == 3:  # global: valtype, mutability
            pos += 2
        elif kind == 4:  # tag
            pos += 1
            _, pos = leb(body, pos)
    return functions


def function_names(body):
    names = {}
    pos = 0
    while pos < len(body):
        sub = body[pos]
        size, pos = leb(body, pos + 1)
        end = pos + size
        if sub == 1:
            count, p = leb(body, pos)
            for _ in range(count):
                index, p = leb(body, p)
                length, p = leb(body, p)
                names[index] = body[p:p + length].decode("utf-8", "replace")
                p += length
        pos = end
    return names


def without_hashes(name):
    """wasm-bindgen writes names demangled; without their hashes, the instances of one
    generic function share a label."""
    return re.sub(r"::h[0-9a-f]{16}$", "", re.sub(r"\[[0-9a-f]{16}\]", "", name))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--group", action="append", default=[])
    args = parser.parse_args()
    data = open(args.module, "rb").read()

    imports = 0
    bodies = []
    names = {}
    section_sizes = Counter()
    kinds = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global", 7: "export",
             9: "element", 10: "code", 11: "data", 12: "data count", 13: "tag"}
    for kind, body in sections(data):
        label = kinds.get(kind, str(kind))
        if kind == 0:
            length, p = leb(body, 0)
            custom = body[p:p + length].decode("utf-8", "replace")
            label = f"custom {custom}"
            if custom == "name":
                names = function_names(body[p + length:])
        section_sizes[label] += len(body)
        if kind == 2:
            imports = imported_functions(body)
        elif kind == 10:
            count, pos = leb(body, 0)
            for _ in range(count):
                size, pos = leb(body, pos)
                bodies.append(size)
                pos += size

    total = len(data)
    print(f"{args.module}: {total} bytes")
    for label, size in section_sizes.most_common():
        print(f"  {label:<24} {size:>9}  {100 * size / total:5.1f} %")
    code = sum(bodies)
    labels = [without_hashes(names.get(imports + i, f"func[{imports + i}]")) for i in range(len(bodies))]
    print(f"\nlargest of {len(bodies)} functions ({code} bytes of code):")
    for size, name in sorted(zip(bodies, labels), reverse=True)[: args.top]:
        print(f"  {size:>7}  {name[:160]}")
    by_name, count = Counter(), Counter()
    for size, name in zip(bodies, labels):
        by_name[name] += size
        count[name] += 1
    print("\nlargest generic functions, all their instances together:")
    for name, size in by_name.most_common(args.top):
        print(f"  {size:>7}  {count[name]:>4} x  {name[:150]}")
    if args.group:
        print("\nshare of code by what a name mentions:")
        for pattern in args.group:
            rx = re.compile(pattern)
            size = sum(s for s, n in zip(bodies, labels) if rx.search(n))
            print(f"  {pattern:<40} {size:>9}  {100 * size / code:5.1f} %")


if __name__ == "__main__":
    sys.exit(main())
