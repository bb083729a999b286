#!/usr/bin/env python3
"""Lists a crate's public API from its rustdoc JSON, one item per line.

Reads the JSON `cargo rustdoc -- --output-format json` writes and prints every
item a user can name: modules, types with their public fields and variants,
functions and methods with their signatures, traits, constants, macros, and
the trait implementations of each type (auto-trait and blanket impls left out).
Items marked `#[doc(hidden)]` are not in the JSON, so they are not listed.

usage: public-api.py <crate.json>
"""

import json
import sys


def render_generic_args(args):
    if not args:
        return ""
    if "angle_bracketed" in args:
        parts = []
        for a in args["angle_bracketed"]["args"]:
            if "type" in a:
                parts.append(ty(a["type"]))
            elif "lifetime" in a:
                parts.append(a["lifetime"])
            elif "const" in a:
                parts.append(a["const"].get("expr", "_"))
        for c in args["angle_bracketed"].get("constraints", []):
            binding = c.get("binding", {})
            if "equality" in binding and "type" in binding["equality"]:
                parts.append(f'{c["name"]} = {ty(binding["equality"]["type"])}')
        return f"<{', '.join(parts)}>" if parts else ""
    if "parenthesized" in args:
        p = args["parenthesized"]
        out = f"({', '.join(ty(t) for t in p['inputs'])})"
        if p.get("output"):
            out += f" -> {ty(p['output'])}"
        return out
    return ""


def bound(b):
    if "trait_bound" in b:
        t = b["trait_bound"]["trait"]
        return t["path"] + render_generic_args(t.get("args"))
    if "outlives" in b:
        return b["outlives"]
    return "?"


def ty(t):
    if t is None:
        return "()"
    if isinstance(t, str):
        return "_" if t == "infer" else t
    (kind, v), = t.items()
    if kind == "resolved_path":
        # The item's canonical path where rustdoc knows it: stable however
        # the source happens to name the type.
        known = PATHS.get(str(v.get("id")))
        name = "::".join(known["path"]) if known else v["path"]
        return name + render_generic_args(v.get("args"))
    if kind in ("primitive", "generic"):
        return v
    if kind == "borrowed_ref":
        life = f'{v["lifetime"]} ' if v.get("lifetime") else ""
        mut = "mut " if v.get("is_mutable") else ""
        return f"&{life}{mut}{ty(v['type'])}"
    if kind == "raw_pointer":
        return f"*{'mut' if v.get('is_mutable') else 'const'} {ty(v['type'])}"
    if kind == "tuple":
        return f"({', '.join(ty(x) for x in v)})"
    if kind == "slice":
        return f"[{ty(v)}]"
    if kind == "array":
        return f"[{ty(v['type'])}; {v['len']}]"
    if kind == "impl_trait":
        return "impl " + " + ".join(bound(b) for b in v)
    if kind == "dyn_trait":
        parts = [tr["trait"]["path"] + render_generic_args(tr["trait"].get("args")) for tr in v["traits"]]
        if v.get("lifetime"):
            parts.append(v["lifetime"])
        return "dyn " + " + ".join(parts)
    if kind == "qualified_path":
        return f"<{ty(v['self_type'])}>::{v['name']}"
    if kind == "function_pointer":
        return "fn(..)"
    return kind


def signature(name, f):
    sig = f["sig"]
    params = []
    for pname, ptype in sig["inputs"]:
        if pname == "self":
            params.append({"&Self": "&self", "&mut Self": "&mut self"}.get(ty(ptype), "self"))
        else:
            params.append(f"{pname}: {ty(ptype)}")
    gens = [
        p["name"]
        for p in f["generics"]["params"]
        if not p["name"].startswith("'_")
        and not p.get("kind", {}).get("type", {}).get("is_synthetic")
    ]
    g = f"<{', '.join(gens)}>" if gens else ""
    out = f" -> {ty(sig['output'])}" if sig.get("output") else ""
    asyn = "async " if f["header"].get("is_async") else ""
    return f"{asyn}fn {name}{g}({', '.join(params)}){out}"


PATHS = {}


def main(path):
    doc = json.load(open(path))
    PATHS.update(doc["paths"])
    index = doc["index"]
    lines = set()
    seen = set()

    def attrs(item):
        text = json.dumps(item.get("attrs", []))
        return " #[non_exhaustive]" if "non_exhaustive" in text else ""

    def impls_of(item_path, impl_ids):
        for iid in impl_ids:
            imp = index.get(str(iid), {}).get("inner", {}).get("impl")
            if not imp or imp.get("is_synthetic") or imp.get("blanket_impl"):
                continue
            if imp.get("trait"):
                tr = imp["trait"]
                neg = "!" if imp.get("is_negative") else ""
                lines.add(f"impl {neg}{tr['path']}{render_generic_args(tr.get('args'))} for {item_path}")
                continue
            for mid in imp["items"]:
                m = index.get(str(mid))
                if not m or m.get("visibility") != "public":
                    continue
                inner = m["inner"]
                if "function" in inner:
                    lines.add(f"{item_path}::{signature(m['name'], inner['function'])}")
                elif "assoc_const" in inner:
                    lines.add(f"const {item_path}::{m['name']}")

    def walk(iid, prefix):
        item = index.get(str(iid))
        if item is None:
            return
        inner = item["inner"]
        (kind, v), = inner.items()
        name = item.get("name")
        if kind == "use":
            if v.get("is_glob"):
                target = index.get(str(v.get("id")))
                if target and "module" in target["inner"]:
                    for child in target["inner"]["module"]["items"]:
                        walk(child, prefix)
                else:
                    lines.add(f"pub use {v['source']}::*  (in {prefix})")
                return
            if v.get("id") is not None and str(v["id"]) in index:
                target = dict(index[str(v["id"])])
                target["name"] = v["name"]
                walk_item(target, prefix)
            else:
                lines.add(f"pub use {prefix}::{v['name']} = {v['source']}")
            return
        walk_item(item, prefix)

    def walk_item(item, prefix):
        (kind, v), = item["inner"].items()
        path = f"{prefix}::{item['name']}"
        key = (item["id"], path)
        if key in seen:
            return
        seen.add(key)
        if kind == "module":
            lines.add(f"mod {path}")
            for child in v["items"]:
                walk(child, path)
        elif kind == "struct":
            lines.add(f"struct {path}{attrs(item)}")
            k = v["kind"]
            if isinstance(k, dict) and "plain" in k:
                for fid in k["plain"]["fields"]:
                    f = index.get(str(fid))
                    if f:
                        lines.add(f"{path}.{f['name']}: {ty(f['inner']['struct_field'])}")
            elif isinstance(k, dict) and "tuple" in k:
                for n, fid in enumerate(k["tuple"]):
                    if fid is not None and str(fid) in index:
                        lines.add(f"{path}.{n}: {ty(index[str(fid)]['inner']['struct_field'])}")
            impls_of(path, v["impls"])
        elif kind == "enum":
            lines.add(f"enum {path}{attrs(item)}")
            for vid in v["variants"]:
                var = index.get(str(vid))
                if var:
                    lines.add(f"{path}::{var['name']}{attrs(var)}")
            impls_of(path, v["impls"])
        elif kind == "function":
            lines.add(f"{prefix}::{signature(item['name'], v)}")
        elif kind == "trait":
            lines.add(f"trait {path}")
            for mid in v["items"]:
                m = index.get(str(mid))
                if m and "function" in m["inner"]:
                    lines.add(f"{path}::{signature(m['name'], m['inner']['function'])}")
                elif m:
                    lines.add(f"{path}::{m['name']}")
        elif kind == "type_alias":
            lines.add(f"type {path} = {ty(v['type'])}")
        elif kind in ("constant", "static"):
            lines.add(f"{kind} {path}: {ty(v.get('type'))}")
        elif kind == "macro":
            lines.add(f"macro {item['name']}!")
        elif kind == "proc_macro":
            lines.add(f"proc macro {path}")
        else:
            lines.add(f"{kind} {path}")

    root = index[str(doc["root"])]
    crate = root["name"]
    for child in root["inner"]["module"]["items"]:
        walk(child, crate)
    for line in sorted(lines):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])
