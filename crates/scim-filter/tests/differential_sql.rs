//! Differential test: for every corpus filter, the rows a real SQL engine returns for the
//! generated `WHERE` clause are exactly the users `matches` accepts. SQLite (bundled) always runs;
//! PostgreSQL runs when `IDFORGE_PG_URL` is set (by `.ci/scim-filter.sh`), through `psql`.

mod common;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::{Command, Stdio};

use idforge_scim_filter::sql::{to_sql, ColumnMap, Dialect, SqlParam, SqlQuery};
use idforge_scim_filter::{parse_filter, Filter, Schema};
use serde_json::Value;

struct Case {
    text: String,
    filter: Filter,
    expected: Vec<i64>,
}

fn cases() -> (Vec<Value>, Vec<Case>) {
    let users = common::users();
    let corpus = common::corpus(&users);
    assert!(users.len() >= 50, "at least 50 seeded users");
    assert!(
        corpus.len() >= 150,
        "at least 150 filters, have {}",
        corpus.len()
    );
    let cases: Vec<Case> = corpus
        .into_iter()
        .map(|text| {
            let filter = parse_filter(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let expected = common::expected_ids(&filter, &users);
            Case {
                text,
                filter,
                expected,
            }
        })
        .collect();
    // The corpus must discriminate: most filters select some users but not all.
    let selective = cases
        .iter()
        .filter(|c| !c.expected.is_empty() && c.expected.len() < users.len())
        .count();
    assert!(
        selective * 2 > cases.len(),
        "only {selective} of {} filters are selective",
        cases.len()
    );
    (users, cases)
}

fn translate(c: &Case, map: &dyn ColumnMap, dialect: Dialect) -> SqlQuery {
    to_sql(&c.filter, &Schema::user(), map, dialect).unwrap_or_else(|e| panic!("{}: {e}", c.text))
}

fn run_sqlite(statements: &[String], cases: &[Case], map: &dyn ColumnMap) -> usize {
    let db = rusqlite::Connection::open_in_memory().expect("sqlite");
    db.execute_batch(&format!("{};", statements.join(";\n")))
        .expect("seed");
    let mut checked = 0;
    for c in cases {
        let q = translate(c, map, Dialect::Sqlite);
        let sql = format!("SELECT id FROM users WHERE {} ORDER BY id", q.sql);
        let params: Vec<rusqlite::types::Value> = q
            .params
            .iter()
            .map(|p| match p {
                SqlParam::Text(s) => rusqlite::types::Value::Text(s.clone()),
                SqlParam::Integer(i) => rusqlite::types::Value::Integer(*i),
                SqlParam::Real(f) => rusqlite::types::Value::Real(*f),
                SqlParam::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
            })
            .collect();
        let mut stmt = db
            .prepare(&sql)
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", c.text));
        let rows: Vec<i64> = stmt
            .query_map(rusqlite::params_from_iter(params), |r| r.get(0))
            .and_then(|it| it.collect())
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", c.text));
        assert_eq!(
            rows, c.expected,
            "filter {}\nSQL {sql}\nparams {:?}",
            c.text, q.params
        );
        checked += 1;
    }
    checked
}

#[test]
fn sqlite_wide_and_child_tables_agree_with_matches() {
    let (users, cases) = cases();
    let n = run_sqlite(
        &common::wide_statements(&users, false),
        &cases,
        &common::wide_map(),
    );
    println!(
        "sqlite wide layout: {n} filters over {} users agree",
        users.len()
    );
}

#[test]
fn sqlite_eav_agrees_with_matches() {
    let (users, cases) = cases();
    let n = run_sqlite(&common::eav_statements(&users), &cases, &common::eav_map());
    println!(
        "sqlite EAV layout: {n} filters over {} users agree",
        users.len()
    );
}

fn pg_literal(p: &SqlParam) -> String {
    match p {
        SqlParam::Text(s) => common::sql_lit(s),
        SqlParam::Integer(i) => i.to_string(),
        SqlParam::Real(f) => format!("{f:?}"),
        SqlParam::Bool(b) => b.to_string(),
    }
}

/// Runs all cases in one `psql` session: each filter becomes a prepared statement (so the
/// generated `$n` placeholders are real parameters), executed with its values.
fn run_postgres(
    url: &str,
    schema_name: &str,
    statements: &[String],
    cases: &[Case],
    map: &dyn ColumnMap,
) {
    let mut script = String::from("\\set ON_ERROR_STOP 1\nSET client_min_messages = warning;\n");
    script += &format!("DROP SCHEMA IF EXISTS {schema_name} CASCADE;\nCREATE SCHEMA {schema_name};\nSET search_path = {schema_name};\n");
    for s in statements {
        script += s;
        script += ";\n";
    }
    let mut sqls = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let q = translate(c, map, Dialect::Postgres);
        script += &format!(
            "PREPARE q{i} AS SELECT 'R' || coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM users WHERE {};\n",
            q.sql
        );
        if q.params.is_empty() {
            script += &format!("EXECUTE q{i};\n");
        } else {
            let lits: Vec<String> = q.params.iter().map(pg_literal).collect();
            script += &format!("EXECUTE q{i}({});\n", lits.join(", "));
        }
        sqls.push(q);
    }
    script += &format!("DROP SCHEMA {schema_name} CASCADE;\n");
    let mut child = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-d", url, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("psql finishes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('R')).collect();
    assert_eq!(lines.len(), cases.len(), "one result line per filter");
    for ((c, line), q) in cases.iter().zip(lines).zip(&sqls) {
        let got: BTreeSet<i64> = line[1..]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("id"))
            .collect();
        let want: BTreeSet<i64> = c.expected.iter().copied().collect();
        assert_eq!(
            got, want,
            "filter {}\nSQL {}\nparams {:?}",
            c.text, q.sql, q.params
        );
    }
    println!("postgres {schema_name}: {} filters agree", cases.len());
}

fn pg_url() -> Option<String> {
    match std::env::var("IDFORGE_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            common::skip_or_fail(
                "IDFORGE_PG_URL is not set (source .ci/scim-filter.sh to start PostgreSQL)",
            );
            None
        }
    }
}

#[test]
fn postgres_wide_and_child_tables_agree_with_matches() {
    let Some(url) = pg_url() else { return };
    let (users, cases) = cases();
    run_postgres(
        &url,
        "scim_wide",
        &common::wide_statements(&users, true),
        &cases,
        &common::wide_map(),
    );
}

#[test]
fn postgres_eav_agrees_with_matches() {
    let Some(url) = pg_url() else { return };
    let (users, cases) = cases();
    run_postgres(
        &url,
        "scim_eav",
        &common::eav_statements(&users),
        &cases,
        &common::eav_map(),
    );
}
