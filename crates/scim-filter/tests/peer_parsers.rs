//! Differential parser test against two independent SCIM filter parsers: Python
//! `scim2-filter-parser` 0.7.0 and npm `scim2-parse-filter` 0.2.10 (installed by
//! `.ci/scim-filter.sh` into `target/peers`). For every filter of the corpus the three parsers
//! must agree on accept/reject and, when all accept, on the tree shape, except for the
//! intentional disagreements listed in `DISAGREEMENTS`, each justified by the RFC section that
//! decides it. The list is checked both ways: an unlisted disagreement fails, and so does a listed
//! one that no longer happens.

mod common;

use std::path::PathBuf;
use std::process::Command;

use idforge_scim_filter::{parse_filter, CompValue, Filter};
use serde_json::{json, Value};

/// Filters chosen to probe edges of the grammar, beside the RFC examples and the corpus.
const EDGE_FILTERS: &[&str] = &[
    r#"userName eq "a" and (title pr or nickName pr) and not (locale pr)"#,
    r#"a eq 1 or b eq 2 and c eq 3"#,
    r#"(a eq 1 or b eq 2) and c eq 3"#,
    r#"a eq true"#,
    r#"a eq null"#,
    r#"a eq -12"#,
    r#"a eq 1.5"#,
    r#"a eq "\"quoted\" \\ back""#,
    r#"a eq "tab\there""#,
    r#"a eq "\u00e9""#,
    r#"A Eq "x""#,
    r#"a EQ "x" AND b PR"#,
    r#"not(a pr)"#,
    r#"emails[type eq "work"]"#,
    r#"emails[not (type eq "work")]"#,
    r#"emails[type eq "work" or primary eq true]"#,
    r#"members[$ref eq "x"]"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    // Invalid per RFC 7644 §3.4.2.2 ABNF.
    r#"userName eq"#,
    r#"userName eq "x" and"#,
    r#"userName xx "x""#,
    r#"(userName pr"#,
    r#"userName pr)"#,
    r#"emails[type eq "work"].value eq "x""#,
    r#"emails[type[value pr]]"#,
    r#"not userName pr"#,
    r#"userName eq 'single'"#,
    r#"userName eq unquoted"#,
    r#"1userName pr"#,
    r#"userName eq "x" userName eq "y""#,
    r#""#,
    r#"()"#,
    r#"a eq 01"#,
    r#"a eq 1."#,
    r#"a eq .5"#,
    r#"a eq +1"#,
    r#"a eq "\x""#,
    r#"a.b.c pr"#,
    r#"a eq True"#,
];

/// (filter, peer, RFC section and reason). `peer` is `python`, `node` or `both`: who disagrees
/// with us. In every case we follow the RFC; the peers are lenient or buggy.
const DISAGREEMENTS: &[(&str, &str, &str)] = &[
    (r#"a eq 1 or b eq 2 and c eq 3"#, "python", PRECEDENCE),
    (r#"a eq -12"#, "python", "RFC 7644 §3.4.2.2 compValue includes JSON numbers (RFC 7159 §6: a leading minus is allowed); Python rejects '-'"),
    (r#"a eq 1.5"#, "python", "RFC 7159 §6: numbers may have a fraction; Python rejects '.'"),
    (r#"a eq "\"quoted\" \\ back""#, "both", ESCAPES),
    (r#"a eq "tab\there""#, "both", ESCAPES),
    (r#"a eq "\u00e9""#, "both", ESCAPES),
    (r#"a eq "\x""#, "both", "RFC 7159 §7: \\x is not a JSON escape, so the string is invalid; both peers keep it verbatim"),
    (r#"members[$ref eq "x"]"#, "node", "RFC 7643 §2.3.7 and §8.7.1 name reference sub-attributes \"$ref\"; Node's tokenizer rejects '$'"),
    (r#"emails[type eq "work"].value eq "x""#, "node", "RFC 7644 §3.4.2.2: a filter valuePath has no subAttr (only PATCH paths, §3.5.2, do); Node silently reads it as an \"and\""),
    (r#"emails[type[value pr]]"#, "both", "RFC 7643 §2.3.8: sub-attributes are never complex, so value filters cannot nest (RFC 7644 §3.4.2.2 valFilter)"),
    (r#"not userName pr"#, "node", "RFC 7644 §3.4.2.2 ABNF: \"not\" is always followed by \"(\" FILTER \")\""),
    (r#"1userName pr"#, "node", "RFC 7644 §3.4.2.2 ABNF: ATTRNAME = ALPHA *(nameChar), a letter first"),
    (r#"a.b.c pr"#, "node", "RFC 7644 §3.4.2.2 ABNF: attrPath has at most one subAttr"),
    (r#"a eq True"#, "both", "RFC 5234 §2.3: ABNF quoted literals (\"true\", \"and\", \"eq\") are case-insensitive"),
];

const PRECEDENCE: &str =
    "RFC 7644 §3.4.2.2: \"and\" takes precedence over \"or\"; Python groups left to right";
const ESCAPES: &str = "RFC 7644 §3.4.2.2 compValue strings are JSON strings, whose escapes (RFC 7159 §7) are decoded; the peers keep them verbatim (Node even rejects some)";

/// Disagreements on generated corpus filters, recognized by rule (with the same RFC reasons).
fn corpus_rule(f: &str, who: &str, mine: &Value, py: &Value, node: &Value) -> Option<&'static str> {
    let ok = |v: &Value| v["ok"] == json!(true);
    // Python's left-to-right grouping: Node agrees with us, the filter mixes "or" before "and".
    if who == "python"
        && ok(mine)
        && ok(py)
        && node == mine
        && f.contains(" or ")
        && f.contains(" and ")
    {
        return Some(PRECEDENCE);
    }
    // An escaped quote or backslash in a JSON string, which the peers do not decode.
    if (f.contains(r#"\""#) || f.contains(r"\\")) && ok(mine) {
        let differs = |v: &Value| v != mine;
        let explained = match who {
            "python" => differs(py),
            "node" => differs(node),
            _ => differs(py) && differs(node),
        };
        if explained {
            return Some(ESCAPES);
        }
    }
    None
}

const PYTHON: &str = r#"
import json, sys
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser
def path(p):
    s = (p.uri + ":" if p.uri else "") + p.attr_name
    if p.sub_attr is not None:
        s += "." + p.sub_attr.value
    return s.lower()
def flat(op, items):
    out = [op]
    for i in items:
        if isinstance(i, list) and i and i[0] == op:
            out.extend(i[1:])
        else:
            out.append(i)
    return out
def conv(n):
    t = type(n).__name__
    if t == "Filter":
        inner = conv(n.expr)
        if n.namespace is not None:
            inner = ["[]", path(n.namespace), inner]
        if n.negated:
            inner = ["not", inner]
        return inner
    if t == "LogExpr":
        return flat(n.op.lower(), [conv(n.expr1), conv(n.expr2)])
    if t == "AttrExpr":
        out = [n.value.lower(), path(n.attr_path)]
        if n.comp_value is not None:
            v = n.comp_value.value
            out.append(v if isinstance(v, str) else json.dumps(v))
        return out
    raise ValueError(t)
res = []
for f in json.load(sys.stdin):
    try:
        tree = conv(SCIMParser().parse(SCIMLexer().tokenize(f)))
        res.append({"ok": True, "tree": tree})
    except Exception as e:
        res.append({"ok": False, "error": type(e).__name__ + ": " + str(e)[:80]})
print(json.dumps(res))
"#;

const NODE: &str = r#"
const { parse } = require("scim2-parse-filter");
const flat = (op, items) => { const out = [op]; for (const i of items) { if (Array.isArray(i) && i[0] === op) out.push(...i.slice(1)); else out.push(i); } return out; };
const val = (v) => (typeof v === "string" ? v : JSON.stringify(v));
function conv(n) {
  switch (n.op) {
    case "and": case "or": return flat(n.op, n.filters.map(conv));
    case "not": return ["not", conv(n.filter)];
    case "[]": return ["[]", n.attrPath.toLowerCase(), conv(n.valFilter)];
    case "pr": return ["pr", n.attrPath.toLowerCase()];
    default: return [n.op.toLowerCase(), n.attrPath.toLowerCase(), val(n.compValue)];
  }
}
let input = ""; process.stdin.on("data", (d) => (input += d)); process.stdin.on("end", () => {
  const res = JSON.parse(input).map((f) => { try { return { ok: true, tree: conv(parse(f)) }; } catch (e) { return { ok: false, error: String(e).slice(0, 80) }; } });
  console.log(JSON.stringify(res));
});
"#;

fn ours(f: &Filter) -> Value {
    let path = |p: &idforge_scim_filter::AttrPath| Value::String(p.to_string().to_lowercase());
    match f {
        Filter::Present { path: p, .. } => json!(["pr", path(p)]),
        Filter::Compare {
            path: p, op, value, ..
        } => {
            let v = match value {
                CompValue::String(s) => s.clone(),
                other => other.to_string(),
            };
            json!([op.as_str(), path(p), v])
        }
        Filter::ValuePath {
            path: p, filter, ..
        } => json!(["[]", path(p), ours(filter)]),
        Filter::And(items, _) | Filter::Or(items, _) => {
            let mut v = vec![json!(if matches!(f, Filter::And(..)) {
                "and"
            } else {
                "or"
            })];
            v.extend(items.iter().map(ours));
            Value::Array(v)
        }
        Filter::Not(inner, _) => json!(["not", ours(inner)]),
    }
}

fn peers_dir() -> PathBuf {
    let dir = std::env::var_os("IDFORGE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/peers"));
    // Python resolves `..` lexically: hand it a canonical path.
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

fn run_peer(program: &str, args: &[&str], env: (&str, PathBuf), input: &str) -> Vec<Value> {
    use std::io::Write as _;
    let mut child = Command::new(program)
        .args(args)
        .env(env.0, env.1)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("peer output is JSON")
}

#[test]
fn peers_agree_on_accept_reject_and_tree_shape() {
    let dir = peers_dir();
    let py = dir.join("python");
    let node = dir.join("node/node_modules");
    if !py.join("scim2_filter_parser").is_dir() || !node.join("scim2-parse-filter").is_dir() {
        common::skip_or_fail(&format!(
            "parser peers are not installed in {} (source .ci/scim-filter.sh)",
            dir.display()
        ));
        return;
    }
    let users = common::users();
    let mut filters: Vec<String> = EDGE_FILTERS.iter().map(|s| (*s).to_owned()).collect();
    filters.extend(common::corpus(&users));
    let input = serde_json::to_string(&filters).expect("json");
    let py_res = run_peer("python3", &["-c", PYTHON], ("PYTHONPATH", py), &input);
    let node_res = run_peer("node", &["-e", NODE], ("NODE_PATH", node), &input);
    assert_eq!(py_res.len(), filters.len());
    assert_eq!(node_res.len(), filters.len());

    let mut unexpected = Vec::new();
    let mut seen = vec![false; DISAGREEMENTS.len()];
    let mut agreed = 0;
    let mut by_rule = 0;
    for (i, f) in filters.iter().enumerate() {
        let mine = match parse_filter(f) {
            Ok(t) => json!({"ok": true, "tree": ours(&t)}),
            Err(e) => json!({"ok": false, "error": e.to_string()}),
        };
        let same = |other: &Value| {
            other["ok"] == mine["ok"]
                && (mine["ok"] == json!(false) || other["tree"] == mine["tree"])
        };
        let (py_same, node_same) = (same(&py_res[i]), same(&node_res[i]));
        if py_same && node_same {
            agreed += 1;
            continue;
        }
        let who = match (py_same, node_same) {
            (false, false) => "both",
            (false, true) => "python",
            _ => "node",
        };
        match DISAGREEMENTS
            .iter()
            .position(|(df, dp, _)| df == f && *dp == who)
        {
            Some(k) => seen[k] = true,
            None if corpus_rule(f, who, &mine, &py_res[i], &node_res[i]).is_some() => by_rule += 1,
            None => unexpected.push(format!(
                "{f:?} ({who})\n  ours:   {mine}\n  python: {}\n  node:   {}",
                py_res[i], node_res[i]
            )),
        }
    }
    let stale: Vec<&str> = DISAGREEMENTS
        .iter()
        .zip(&seen)
        .filter(|(_, s)| !**s)
        .map(|(d, _)| d.0)
        .collect();
    println!(
        "peer parsers: {agreed} of {} filters agree exactly; {} listed and {by_rule} rule-explained disagreements",
        filters.len(),
        DISAGREEMENTS.len()
    );
    assert!(
        unexpected.is_empty(),
        "undocumented disagreements:\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "documented disagreements that no longer occur: {stale:?}"
    );
}
